/**
 * A skip notice printed once per test run, not once per test file: vitest runs each file in
 * its own forked process, and all of them share the vitest process as parent, so a marker
 * file named after it tells the first file from the rest (test/global-setup.ts removes them).
 */
import { closeSync, openSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const NOTICE_PREFIX = 'sepconv-test-notice-';

export function warnOnce(key: string, message: string): void {
  try {
    closeSync(openSync(join(tmpdir(), `${NOTICE_PREFIX}${process.ppid}-${key}`), 'wx'));
  } catch {
    return; // another test file of this run has said it
  }
  console.warn(message);
}
