// Stopping a training run from outside, as containers, systemd, CI and closed terminals do:
// SIGTERM and SIGHUP behave like Ctrl-C (finish the step, save, exit 128 + signal), a second
// signal quits at once, and a folder left by any stop, kill -9 included, resumes or restarts.
import { beforeAll, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { constants } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as sc from '../dist/index.js';
import { makeCifarDir, tempDir } from './helpers/datasets.js';

const BIN = fileURLToPath(new URL('../dist/cli/index.js', import.meta.url));

interface Run {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** A signal to send once `when` holds (polled every 5 ms), given the run's folder and its stderr so far. */
interface Stop {
  signal: NodeJS.Signals;
  when: (dir: string, stderr: string) => boolean;
}

/** Once the run's config.json exists: the process is past start-up (it may still be loading data). */
const started = (dir: string): boolean => existsSync(join(dir, 'config.json'));

/** Runs the CLI in `dir`'s run, sending `stops` one after another as their conditions come true. */
function sepconv(args: string[], stops: { dir: string; signals: Stop[] } | null = null): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    const pending = [...(stops?.signals ?? [])];
    const poll = setInterval(() => {
      if (pending.length > 0 && pending[0]!.when(stops!.dir, stderr)) child.kill(pending.shift()!.signal);
    }, 5);
    child.on('close', (code, signal) => {
      clearInterval(poll);
      resolve({ code, signal, stdout, stderr });
    });
  });
}

/** `ms` after the run started. */
const afterStart = (ms: number): Stop['when'] => {
  let since: number | null = null;
  return (dir) => {
    if (since === null && started(dir)) since = performance.now();
    return since !== null && performance.now() - since >= ms;
  };
};

let root = '';
let cifarDir = '';
const out = (name: string): string => join(root, 'runs', name);
/** 24 training items in batches of 8: 3 steps per epoch; many epochs, so a signal lands mid-run. */
const vggArgs = (name: string, epochs = 200): string[] => [
  'train', '--model', 'vgg', '--conv', 'dsc', '--data-dir', cifarDir, '--epochs', String(epochs), '--batch-size', '8', '--limit', '24', '--out', out(name),
];

/** Every run file in `dir` is whole: JSON parses, safetensors load (their checksums hold). */
function expectWholeFiles(dir: string): void {
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (name.endsWith('.json')) JSON.parse(readFileSync(path, 'utf8'));
    if (name === 'metrics.jsonl') sc.train.parseMetricsJsonl(readFileSync(path, 'utf8'));
    if (name.endsWith('.safetensors')) for (const t of Object.values(sc.load(path))) t.dispose();
  }
}

/**
 * Finishes whatever a stop left in `dir` within a few epochs: resume when it has a checkpoint,
 * else the same command restarts it.
 */
function finish(name: string): Promise<Run> {
  const dir = out(name);
  if (!existsSync(join(dir, 'resume.safetensors'))) return sepconv(vggArgs(name, 1));
  const finished = existsSync(join(dir, 'metrics.jsonl')) ? sc.train.parseMetricsJsonl(readFileSync(join(dir, 'metrics.jsonl'), 'utf8')).length : 0;
  return sepconv(['train', '--resume', dir, '--epochs', String(finished + 2)]);
}

beforeAll(async () => {
  root = await tempDir('cli-signals');
  cifarDir = await makeCifarDir(join(root, 'cifar'), 8);
});

describe('stop signals', () => {
  for (const name of ['SIGTERM', 'SIGHUP'] as const) {
    it(`${name} finishes the step, saves, exits ${128 + constants.signals[name]} and prints how to resume`, async () => {
      const run = await sepconv(vggArgs(name), { dir: out(name), signals: [{ signal: name, when: afterStart(300) }] });
      expect(run.stderr).toContain(`${name}: stopping after the current step to save a checkpoint`);
      expect(run.code).toBe(128 + constants.signals[name]);
      const where = /interrupted at epoch (\d+), step (\d+); checkpoint saved\. Resume with: .* train --resume (.+)$/m.exec(run.stderr);
      expect(where?.[3]).toBe(out(name));
      expectWholeFiles(out(name));
      // Resume and end in the interrupted epoch.
      const resumed = await sepconv(['train', '--resume', out(name), '--epochs', where![1]!]);
      expect(resumed.code).toBe(0);
      // (Under load the signal can land before the first step ends: then it resumes from the start.)
      const fromStart = where![1] === '1' && where![2] === '0';
      expect(resumed.stdout).toContain(fromStart ? 'training: ' : `resuming at epoch ${where![1]}, step ${where![2]}`);
    });
  }

  it('a second signal quits at once and leaves a folder that resumes or restarts without --overwrite', async () => {
    // The second signal goes once the first has been seen (two signals close together can reach the process as one).
    const firstSeen: Stop['when'] = (_dir, stderr) => stderr.includes('SIGTERM: stopping after the current step');
    const run = await sepconv(vggArgs('twice'), { dir: out('twice'), signals: [{ signal: 'SIGTERM', when: afterStart(200) }, { signal: 'SIGTERM', when: firstSeen }] });
    expect(run.code).toBe(143);
    expect(run.stderr).toContain('SIGTERM again: quitting now');
    expectWholeFiles(out('twice'));
    const next = await finish('twice');
    expect(next.code).toBe(0);
    expect(existsSync(join(out('twice'), 'resume.safetensors'))).toBe(true);
  });

  it('a folder holding only config.json (a run killed before its first save) is restarted by train or --resume, saying so', async () => {
    for (const [name, again] of [['early', vggArgs('early', 1)], ['early-resume', ['train', '--resume', out('early-resume')]]] as const) {
      // Killed as soon as config.json exists: before the first step ends nothing else is written.
      const run = await sepconv(vggArgs(name), { dir: out(name), signals: [{ signal: 'SIGKILL', when: started }] });
      expect(run.signal).toBe('SIGKILL');
      expect(readdirSync(out(name)).filter((f) => !f.includes('.tmp'))).toEqual(['config.json']);
      const restarted = await sepconv(name === 'early' ? again : [...again, '--epochs', '1']);
      expect(restarted.stderr).toContain(`${out(name)} holds a run that stopped before its first checkpoint: restarting it from the beginning`);
      expect(restarted.code).toBe(0);
      expectWholeFiles(out(name));
    }
    // A folder with checkpoints is still refused by a plain `train`.
    expect((await sepconv(vggArgs('early', 1))).stderr).toContain('already holds a training run');
  });

  it('kill -9 at random moments always leaves a folder that resumes or restarts, with no half-written file', async () => {
    for (const [i, delay] of [40, 400, 900, 1500].entries()) {
      const name = `kill9-${i}`;
      const run = await sepconv(vggArgs(name), { dir: out(name), signals: [{ signal: 'SIGKILL', when: afterStart(delay) }] });
      expect(run.signal).toBe('SIGKILL');
      expectWholeFiles(out(name));
      const next = await finish(name);
      expect(next.code, next.stderr).toBe(0);
      expectWholeFiles(out(name));
    }
  });
});
