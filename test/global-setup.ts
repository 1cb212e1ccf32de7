// Runs once in the vitest process: removes this run's once-only notice markers at the end.
import { readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { NOTICE_PREFIX } from './helpers/notice.js';

export default function setup(): () => void {
  return () => {
    for (const name of readdirSync(tmpdir()))
      if (name.startsWith(`${NOTICE_PREFIX}${process.pid}-`)) rmSync(join(tmpdir(), name), { force: true });
  };
}
