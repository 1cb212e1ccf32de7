// Which addon binary loads, and what the install script does when none does: scripts/install.mjs
// and loadAddon (lib/native.ts) on throwaway package directories. The real install of the
// packed tarball without a compiler is `npm run test:pack`.
import { afterAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { copyFileSync, cpSync, existsSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createRequire } from 'node:module';
import { loadAddon } from '../dist/native.js';

const repo = fileURLToPath(new URL('..', import.meta.url));
// The binary this checkout loads: build/Release, or in the release workflow its own prebuild.
const workingAddon = (createRequire(import.meta.url)('node-gyp-build') as { resolve(dir: string): string }).resolve(repo);
const scratch = mkdtempSync(join(tmpdir(), 'sepconv-install-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

const host = `${process.platform}-${process.arch}`;
const otherArch = process.arch === 'arm64' ? 'x64' : 'arm64';
const hostLibc = process.platform === 'linux' && existsSync('/etc/alpine-release') ? 'musl' : 'glibc';
const otherLibc = hostLibc === 'musl' ? 'glibc' : 'musl';
const libcNote = process.platform === 'linux' ? ` \\(${hostLibc}\\)` : ''; // as a RegExp
const notAnAddon = 'this is not a shared library\n';

let packages = 0;
/** A package directory named sepconv holding `files` (path → contents, or a file to copy). */
function fakePackage(files: Record<string, string | { copyOf: string }>): string {
  const dir = join(scratch, `pkg${packages++}`);
  mkdirSync(join(dir, 'scripts'), { recursive: true });
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'sepconv' }));
  for (const [path, contents] of Object.entries(files)) {
    mkdirSync(join(dir, path, '..'), { recursive: true });
    if (typeof contents === 'string') writeFileSync(join(dir, path), contents);
    else copyFileSync(contents.copyOf, join(dir, path));
  }
  return dir;
}

describe('loadAddon', () => {
  it('never picks a prebuild for another arch or libc', () => {
    const root = fakePackage({
      [`prebuilds/${process.platform}-${otherArch}/sepconv.${hostLibc}.node`]: notAnAddon,
      [`prebuilds/${host}/sepconv.${otherLibc}.node`]: notAnAddon,
    });
    // Had either been picked, the error would be the loader's "invalid ELF header" instead.
    expect(() => loadAddon(root)).toThrow(`sepconv: no native addon for ${host}`);
    expect(() => loadAddon(root)).toThrow(`nor a matching binary in ${join(root, 'prebuilds')}`);
    expect(() => loadAddon(root)).toThrow('Fallback: `npm rebuild sepconv` compiles it from source');
  });

  it('names a corrupt binary and the fallback', () => {
    const file = `prebuilds/${host}/sepconv.${hostLibc}.node`;
    const root = fakePackage({ [file]: notAnAddon });
    expect(() => loadAddon(root)).toThrow(`sepconv: could not load the native addon ${join(root, file)} (`);
    expect(() => loadAddon(root)).toThrow('Fallback: `npm rebuild sepconv`');
  });

  it('prefers a source build in build/Release over prebuilds', () => {
    const root = fakePackage({
      'build/Release/sepconv.node': notAnAddon,
      [`prebuilds/${host}/sepconv.${hostLibc}.node`]: notAnAddon,
    });
    expect(() => loadAddon(root)).toThrow(`could not load the native addon ${join(root, 'build/Release/sepconv.node')}`);
  });
});

describe('scripts/install.mjs', () => {
  // A PATH with node and nothing else: no compiler, make, python3 or node-gyp.
  const nodeOnly = join(scratch, 'node-only-bin');

  function install(files: Record<string, string | { copyOf: string }>) {
    if (!existsSync(nodeOnly)) {
      mkdirSync(nodeOnly);
      symlinkSync(process.execPath, join(nodeOnly, 'node'));
    }
    const root = fakePackage(files);
    cpSync(join(repo, 'scripts/install.mjs'), join(root, 'scripts/install.mjs'));
    symlinkSync(join(repo, 'node_modules'), join(root, 'node_modules'));
    const env: NodeJS.ProcessEnv = { ...process.env, PATH: nodeOnly, JOBS: '3' };
    delete env.npm_config_node_gyp;
    delete env.npm_config_build_from_source;
    const run = spawnSync(process.execPath, ['scripts/install.mjs'], { cwd: root, env, encoding: 'utf8' });
    return { root, status: run.status, stderr: run.stderr };
  }

  it.skipIf(process.platform === 'win32')('loads a working prebuild and compiles nothing', () => {
    const { root, status, stderr } = install({
      [`prebuilds/${host}/sepconv.${hostLibc}.node`]: { copyOf: workingAddon },
    });
    expect(stderr).toBe('');
    expect(status).toBe(0);
    expect(existsSync(join(root, 'build'))).toBe(false);
  });

  it.skipIf(process.platform === 'win32')('says why it compiles, then names the missing tools and the prebuilt platforms', () => {
    const { status, stderr } = install({ [`prebuilds/${process.platform}-${otherArch}/sepconv.${hostLibc}.node`]: notAnAddon });
    expect(status).toBe(1);
    const lines = stderr.trim().split('\n');
    expect(lines[0]).toMatch(
      new RegExp(`^sepconv: no prebuilt binary for ${host}${libcNote}; compiling from source, about \\d+ min on \\d+ cores \\(JOBS=3\\)$`),
    );
    expect(stderr).toContain('sepconv: the source build failed: could not run node-gyp');
    expect(stderr).toContain('Missing: a C++17 compiler (c++, g++ or clang++), make, python3.');
    expect(stderr).toContain(`Prebuilt binaries (no compiler needed) in this package: ${process.platform}-${otherArch} (${hostLibc}).`);
  });

  it.skipIf(process.platform === 'win32')('compiles when the prebuild for this platform does not load, and says which file', () => {
    const file = `prebuilds/${host}/sepconv.${hostLibc}.node`;
    const { root, status, stderr } = install({ [file]: notAnAddon });
    expect(status).toBe(1);
    expect(stderr.split('\n')[0]).toMatch(`sepconv: ${join(root, file)} does not load here (Error: `);
    expect(stderr.split('\n')[0]).toContain('; compiling from source');
  });
});
