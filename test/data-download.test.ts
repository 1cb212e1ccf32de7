// Downloads against a local HTTP server on 127.0.0.1 serving small archives built here.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { create as createTar } from 'tar';
import * as sc from '../dist/index.js';
import { installArchives } from '../dist/data/download.js';
import { makeCifarDir, tempDir, writePet, writeSplit } from './helpers/datasets.js';

const here = dirname(fileURLToPath(import.meta.url));

interface Route {
  body: Buffer;
  /** Close the connection after this many bytes, on the first request only. */
  cutAfter?: number;
  /** Answer Range requests with the whole file (200), like servers without range support. */
  ignoreRange?: boolean;
}

const routes = new Map<string, Route>();
const requests: { path: string; range: string | undefined }[] = [];
let server: Server;
let base: string;

beforeAll(async () => {
  server = createServer((req, res) => {
    const route = routes.get(req.url!);
    requests.push({ path: req.url!, range: req.headers.range });
    if (!route) return void res.writeHead(404, 'Not Found').end();
    const range = /^bytes=(\d+)-$/.exec(req.headers.range ?? '');
    const start = range && !route.ignoreRange ? Number(range[1]) : 0;
    if (start >= route.body.length && start > 0) return void res.writeHead(416).end();
    const headers = { 'content-length': String(route.body.length - start), 'content-type': 'application/gzip' };
    if (start > 0) res.writeHead(206, { ...headers, 'content-range': `bytes ${start}-${route.body.length - 1}/${route.body.length}` });
    else res.writeHead(200, headers);
    if (route.cutAfter !== undefined) {
      const cut = route.cutAfter;
      delete route.cutAfter;
      res.write(route.body.subarray(start, cut), () => res.socket?.destroy());
      return;
    }
    res.end(route.body.subarray(start));
  });
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((ok) => server.close(() => ok())));

const md5 = (data: Buffer) => createHash('md5').update(data).digest('hex');

/** A .tar.gz of `folder` (relative to `cwd`). */
async function tarGz(cwd: string, folders: string[]): Promise<Buffer> {
  const file = join(await tempDir('archive'), 'a.tar.gz');
  await createTar({ gzip: true, cwd, file }, folders);
  return readFile(file);
}

/** A CIFAR-style archive padded with random bytes, so it is large enough to cut mid-way. */
async function cifarArchive(): Promise<Buffer> {
  const staging = await makeCifarDir(await tempDir('staging'), 2);
  await writeFile(join(staging, 'cifar-10-batches-bin', 'readme.html'), randomBytes(300_000));
  return tarGz(staging, ['cifar-10-batches-bin']);
}

const quiet = { progress: false, log: () => undefined };

describe('installArchives', () => {
  it('downloads, verifies, extracts into place and cleans up; a second run fetches nothing', async () => {
    const archive = await cifarArchive();
    routes.set('/c1/cifar-10-binary.tar.gz', { body: archive });
    const target = await tempDir('dl');
    const spec = { url: `${base}/c1/cifar-10-binary.tar.gz`, md5: md5(archive), provides: ['cifar-10-batches-bin'] };
    const progress: number[] = [];
    await installArchives([spec], target, { ...quiet, onProgress: (p) => progress.push(p.received) });
    expect(progress.at(-1)).toBe(archive.length);
    expect((await sc.data.cifar10({ dir: target, split: 'train' })).length).toBe(10);
    expect(await readdir(target)).toEqual(['cifar-10-batches-bin']); // no archive, .part or temp folder left
    const before = requests.length;
    const lines: string[] = [];
    await installArchives([spec], target, { progress: false, log: (l) => lines.push(l) });
    expect(requests.length).toBe(before);
    expect(lines).toEqual([`${join(target, 'cifar-10-batches-bin')} already present`]);
  });

  it('resumes an interrupted download with a Range request', async () => {
    const archive = await cifarArchive();
    routes.set('/c2/cifar-10-binary.tar.gz', { body: archive, cutAfter: 100_000 });
    const target = await tempDir('dl');
    const spec = { url: `${base}/c2/cifar-10-binary.tar.gz`, md5: md5(archive), provides: ['cifar-10-batches-bin'] };
    await expect(installArchives([spec], target, quiet)).rejects.toThrow(
      new RegExp(`^download: ${spec.url} (stopped|ended) after 0\\.1 MB.*; run the command again to resume$`),
    );
    const partial = (await stat(join(target, 'cifar-10-binary.tar.gz.part'))).size;
    expect(partial).toBeGreaterThan(0);
    expect(partial).toBeLessThanOrEqual(100_000);
    await installArchives([spec], target, quiet);
    expect(requests.filter((r) => r.path === '/c2/cifar-10-binary.tar.gz').map((r) => r.range)).toEqual([undefined, `bytes=${partial}-`]);
    expect((await sc.data.cifar10({ dir: target, split: 'test' })).length).toBe(2);
  });

  it('starts over when the server ignores the Range request', async () => {
    const archive = await cifarArchive();
    routes.set('/c3/cifar-10-binary.tar.gz', { body: archive, cutAfter: 50_000, ignoreRange: true });
    const target = await tempDir('dl');
    const spec = { url: `${base}/c3/cifar-10-binary.tar.gz`, md5: md5(archive), provides: ['cifar-10-batches-bin'] };
    await expect(installArchives([spec], target, quiet)).rejects.toThrow('run the command again to resume');
    await installArchives([spec], target, quiet);
    expect((await sc.data.cifar10({ dir: target, split: 'test' })).length).toBe(2);
  });

  it('installs both Pets archives into oxford-iiit-pet/', async () => {
    const staging = await tempDir('staging');
    await writePet(staging, 'cat_1', 30, 20);
    await writeSplit(staging, 'trainval', ['cat_1 1 1 1']);
    const root = join(staging, 'oxford-iiit-pet');
    const images = await tarGz(root, ['images']);
    const annotations = await tarGz(root, ['annotations']);
    routes.set('/p/images.tar.gz', { body: images });
    routes.set('/p/annotations.tar.gz', { body: annotations });
    const dir = await tempDir('dl');
    await installArchives(
      [
        { url: `${base}/p/images.tar.gz`, md5: md5(images), provides: ['images'] },
        { url: `${base}/p/annotations.tar.gz`, md5: md5(annotations), provides: ['annotations'] },
      ],
      join(dir, 'oxford-iiit-pet'),
      quiet,
    );
    const pets = await sc.data.oxfordPets({ dir, split: 'trainval', size: 8, cacheDir: false });
    expect(pets.names).toEqual(['cat_1']);
  });

  it('names the archive that lacks the expected folder', async () => {
    const archive = await cifarArchive();
    routes.set('/c4/wrong.tar.gz', { body: archive });
    const target = await tempDir('dl');
    await expect(installArchives([{ url: `${base}/c4/wrong.tar.gz`, md5: md5(archive), provides: ['images'] }], target, quiet)).rejects.toThrow(
      `download: ${join(target, 'wrong.tar.gz')} does not contain images/ (is it the right archive?)`,
    );
  });
});

describe('sc.data.download', () => {
  it('checks the published MD5 and deletes a file that does not match', async () => {
    const archive = await cifarArchive();
    routes.set('/mirror/cifar-10-binary.tar.gz', { body: archive });
    const dir = await tempDir('dl');
    await expect(sc.data.download('cifar10', { dir, mirror: `${base}/mirror`, ...quiet })).rejects.toThrow(
      `download: cifar-10-binary.tar.gz from ${base}/mirror/cifar-10-binary.tar.gz has MD5 ${md5(archive)} but the published checksum is ` +
        'c32a1d4ab5d03f1284b67883e8d87530; the file was deleted, run the command again to retry',
    );
    expect(await readdir(dir)).toEqual([]);
  });

  it('reports HTTP errors and unknown data sets', async () => {
    const dir = await tempDir('dl');
    await expect(sc.data.download('pets', { dir, mirror: `${base}/nothing/`, ...quiet })).rejects.toThrow(
      `download: ${base}/nothing/images.tar.gz answered 404 Not Found`,
    );
    await expect(sc.data.download('mnist' as 'cifar10', { dir })).rejects.toThrow(
      "download: expected 'cifar10' or 'oxford-pets' (alias 'pets') for name but received 'mnist'",
    );
  });

  it('is what `npm run datasets` runs', async () => {
    const archive = await cifarArchive();
    routes.set('/cli/cifar-10-binary.tar.gz', { body: archive });
    const dir = await tempDir('dl');
    const script = resolve(here, '..', 'scripts', 'datasets.mjs');
    const failed = await promisify(execFile)(process.execPath, [script, 'cifar10', '--dir', dir, '--mirror', `${base}/cli`]).catch((e) => e);
    expect(failed.code).toBe(1);
    expect(failed.stderr).toContain(`data folder: ${dir} (from --data-dir)`);
    expect(failed.stderr).toContain(`has MD5 ${md5(archive)} but the published checksum is c32a1d4ab5d03f1284b67883e8d87530`);
    const usage = await promisify(execFile)(process.execPath, [script, 'mnist']).catch((e) => e);
    expect(usage.code).toBe(2);
    expect(usage.stderr).toContain('usage: npm run datasets -- <cifar10|pets|all>');
  });
});
