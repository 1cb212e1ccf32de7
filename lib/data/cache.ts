/**
 * A disk cache of decoded-and-resized samples, so later epochs and later runs do not decode
 * JPEGs again. Entries are keyed by the source files' paths, byte sizes and mtimes plus the
 * output size (a changed file gets a new key); they are written to a unique temporary name
 * and renamed into place, so concurrent runs and workers never see a partial entry.
 */
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import type { Stats } from 'node:fs';

/** Bump when the stored layout or the decoding changes, so old entries are ignored. */
const FORMAT_VERSION = 1;

/**
 * The default cache folder: $SEPCONV_CACHE_DIR, else the OS per-user cache folder
 * (~/.cache/sepconv or $XDG_CACHE_HOME/sepconv, ~/Library/Caches/sepconv, %LOCALAPPDATA%\sepconv\cache).
 *
 * @example
 * sc.data.defaultCacheDir() // '/home/me/.cache/sepconv'
 */
export function defaultCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env.SEPCONV_CACHE_DIR) return env.SEPCONV_CACHE_DIR;
  if (process.platform === 'win32' && env.LOCALAPPDATA) return join(env.LOCALAPPDATA, 'sepconv', 'cache');
  if (process.platform === 'darwin') return join(homedir(), 'Library', 'Caches', 'sepconv');
  return join(env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'sepconv');
}

/** The key of an entry derived from these files (path, size, mtime) and an output description. */
export function cacheKey(files: readonly { path: string; stat: Stats }[], variant: string): string {
  const hash = createHash('sha256');
  hash.update(`v${FORMAT_VERSION}\0${variant}`);
  for (const f of files) hash.update(`\0${f.path}\0${f.stat.size}\0${f.stat.mtimeMs}`);
  return hash.digest('hex').slice(0, 40);
}

export class DiskCache {
  constructor(readonly dir: string) {}

  /** Creates the folder; returns null when it is writable, else the reason it is not. */
  async open(): Promise<string | null> {
    try {
      await mkdir(this.dir, { recursive: true });
      await this.write('.probe', Buffer.alloc(0));
      return null;
    } catch (err) {
      return err instanceof Error ? err.message : String(err);
    }
  }

  /** The entry's bytes, or null when absent. */
  async read(name: string): Promise<Buffer | null> {
    try {
      return await readFile(join(this.dir, name));
    } catch {
      return null;
    }
  }

  /** Stores an entry atomically: a temporary file renamed into place. */
  async write(name: string, data: Uint8Array | string): Promise<void> {
    const target = join(this.dir, name);
    const temp = `${target}.${process.pid}-${randomBytes(6).toString('hex')}.tmp`;
    try {
      await writeFile(temp, data);
      await rename(temp, target);
    } catch (err) {
      await rm(temp, { force: true });
      throw err;
    }
  }
}
