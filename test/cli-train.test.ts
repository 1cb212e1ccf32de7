// `sepconv train|compare|eval|predict` end to end on tiny generated data sets: exit codes,
// files, metrics, exact resume, Ctrl-C, NaN stop and refusals.
import { beforeAll, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';
import * as sc from '../dist/index.js';
import { makeCifarDir, tempDir, writePet, writeSplit } from './helpers/datasets.js';

const BIN = fileURLToPath(new URL('../dist/cli/index.js', import.meta.url));
/** Loads test/fixtures/train-hooks.mjs into the training worker (it reads SEPCONV_TEST_*_AT). */
const trainHooks = { SEPCONV_JOB_HOOKS: fileURLToPath(new URL('./fixtures/train-hooks.mjs', import.meta.url)) };

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function sepconv(args: string[], env: Record<string, string> = {}, onStdout?: (text: string, child: ReturnType<typeof spawn>) => void): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => {
      stdout += d.toString();
      onStdout?.(stdout, child);
    });
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

let root = '';
let cifarDir = '';
let petsDir = '';
const out = (name: string): string => join(root, 'runs', name);

/** Small, fast settings: 24 training items in batches of 8 (3 steps per epoch). */
const vggArgs = (name: string, ...extra: string[]): string[] => [
  'train', '--model', 'vgg', '--data-dir', cifarDir, '--epochs', '2', '--batch-size', '8', '--limit', '24', '--out', out(name), ...extra,
];
const segnetArgs = (name: string, ...extra: string[]): string[] => [
  'train', '--model', 'segnet', '--data-dir', petsDir, '--image-size', '32', '--epochs', '2', '--batch-size', '4', '--limit', '8', '--val-limit', '4',
  '--mask-samples', '3', '--out', out(name), ...extra,
];

const readRows = (dir: string): Record<string, number>[] => sc.train.parseMetricsJsonl(readFileSync(join(dir, 'metrics.jsonl'), 'utf8'));
/** Rows without the timing and memory columns (which differ between any two runs). */
const learned = (rows: Record<string, number>[]): Record<string, number>[] =>
  rows.map(({ trainSeconds: _t, epochSeconds: _e, imagesPerSecond: _i, peakRssMB: _p, peakTensorMB: _m, ...rest }) => rest);

beforeAll(async () => {
  root = await tempDir('cli-train');
  // CIFAR: 8 records per batch file (40 training, 8 test); Pets: 8 trainval and 4 test photos of varied sizes.
  cifarDir = await makeCifarDir(join(root, 'cifar'), 8);
  petsDir = join(root, 'pets');
  const names = Array.from({ length: 12 }, (_, i) => `Abyssinian_${i + 1}`);
  for (const [i, name] of names.entries()) await writePet(petsDir, name, 40 + (i % 3) * 12, 36 + (i % 2) * 10);
  await writeSplit(petsDir, 'trainval', names.slice(0, 8).map((n) => `${n} 1 1 1`));
  await writeSplit(petsDir, 'test', names.slice(8).map((n) => `${n} 1 1 1`));
});

describe('sepconv train: classification (vgg)', () => {
  it.each(['regular', 'dsc'])('trains vgg %s and writes config, metrics, checkpoints and curves', async (conv) => {
    const run = await sepconv(vggArgs(`vgg-${conv}`, '--conv', conv));
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    const dir = out(`vgg-${conv}`);
    for (const file of ['config.json', 'metrics.jsonl', 'metrics.csv', 'last.safetensors', 'resume.safetensors', 'best.safetensors', 'curves.png'])
      expect(existsSync(join(dir, file)), file).toBe(true);
    const rows = readRows(dir);
    expect(rows.map((r) => r['epoch'])).toEqual([1, 2]);
    for (const key of ['trainLoss', 'trainAccuracy', 'valLoss', 'valAccuracy', 'epochSeconds', 'imagesPerSecond', 'peakRssMB'])
      expect(Number.isFinite(rows[1]![key]), key).toBe(true);
    expect(readFileSync(join(dir, 'metrics.csv'), 'utf8').split('\n')[0]).toMatch(/^epoch,trainLoss,trainAccuracy,valLoss,valAccuracy,/);
    const config = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8'));
    expect(config.config).toMatchObject({ model: 'vgg', conv, dataset: 'cifar10', epochs: 2, batchSize: 8, limit: 24 });
    expect(config.sepconv).toMatch(/^\d+\.\d+\.\d+/);
    expect(config.backend.isa).toBe(sc.backend().isa);
    expect(config.machine.cores).toBeGreaterThan(0);
    expect(run.stdout).toMatch(/epoch 2\/2 {2}train loss \d+\.\d{4} acc \d\.\d{4} \| val loss/);
  });
});

describe('sepconv train: segmentation (segnet)', () => {
  // Regular SegNet writes ~300 MB of checkpoints per epoch (15M weights + Adam moments): one epoch.
  it.each([['regular', 1], ['dsc', 2]] as const)('trains segnet %s and draws the masks grid and its animation', async (conv, epochs) => {
    const run = await sepconv(segnetArgs(`segnet-${conv}`, '--conv', conv, '--epochs', String(epochs)));
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    const dir = out(`segnet-${conv}`);
    const rows = readRows(dir);
    expect(rows).toHaveLength(epochs);
    for (const key of ['trainLoss', 'trainPixelAccuracy', 'trainMeanIoU', 'valLoss', 'valPixelAccuracy', 'valMeanIoU', 'valIoUPet', 'valIoUBackground', 'valIoUBorder'])
      expect(key in rows[epochs - 1]!, key).toBe(true);
    const masks = await sharp(join(dir, 'masks.png')).metadata();
    expect(masks.width).toBeGreaterThanOrEqual(116 + 3 * 132);
    expect(masks.height).toBe(34 + 3 * 132 + 30);
    const gif = await sharp(join(dir, 'masks.gif'), { animated: true }).metadata();
    expect([gif.format, gif.pages ?? 1]).toEqual(['gif', epochs]);
    expect(readdirSync(join(dir, 'masks'))).toEqual(['epoch-001.png', 'epoch-002.png'].slice(0, epochs));
  });
});

describe('resume', () => {
  it('continues after Ctrl-C mid-epoch and reproduces the uninterrupted run exactly', async () => {
    const whole = await sepconv(vggArgs('whole', '--epochs', '3'));
    expect(whole.code).toBe(0);
    // The hook (test/fixtures/train-hooks.mjs) sends a real SIGINT to the CLI during epoch 2, step 2 (of 3).
    const stopped = await sepconv(vggArgs('stopped', '--epochs', '3'), { ...trainHooks, SEPCONV_TEST_SIGINT_AT: '2:2' });
    expect(stopped.code).toBe(130);
    expect(stopped.stderr).toContain('stopping after the current step');
    expect(stopped.stderr).toContain(`interrupted at epoch 2, step 2; checkpoint saved. Resume with: node dist/cli/index.js train --resume ${out('stopped')}`);
    expect(readRows(out('stopped'))).toHaveLength(1);
    const resumed = await sepconv(['train', '--resume', out('stopped')]);
    expect(resumed.code).toBe(0);
    expect(resumed.stdout).toContain('resuming at epoch 2, step 2');
    expect(learned(readRows(out('stopped')))).toEqual(learned(readRows(out('whole'))));
    // Same weights bit for bit (compared as bytes: a deep equality of 5 MB buffers is slow).
    expect(readFileSync(join(out('stopped'), 'last.safetensors')).equals(readFileSync(join(out('whole'), 'last.safetensors')))).toBe(true);
  });

  it('resumes exactly with augmentation through the loader worker threads (segnet, flips and contrast jitter)', async () => {
    // No --limit: the whole tiny Pets split goes through the DataLoader's worker threads.
    const args = (name: string): string[] => [
      'train', '--model', 'segnet', '--conv', 'dsc', '--data-dir', petsDir, '--image-size', '32', '--epochs', '2', '--batch-size', '4',
      '--hflip', '--contrast', '0.3', '--mask-samples', '2', '--out', out(name),
    ];
    expect((await sepconv(args('seg-whole'))).code).toBe(0);
    expect((await sepconv(args('seg-stopped'), { ...trainHooks, SEPCONV_TEST_SIGINT_AT: '1:1' })).code).toBe(130);
    expect((await sepconv(['train', '--resume', out('seg-stopped')])).code).toBe(0);
    expect(learned(readRows(out('seg-stopped')))).toEqual(learned(readRows(out('seg-whole'))));
  });

  it('extends a finished run with more epochs exactly as if it had been asked for them', async () => {
    const one = await sepconv(vggArgs('extended', '--epochs', '1', '--scheduler', 'step', '--step-size', '1', '--gamma', '0.5'));
    expect(one.code).toBe(0);
    const more = await sepconv(['train', '--resume', out('extended'), '--epochs', '3']);
    expect(more.code).toBe(0);
    const straight = await sepconv(vggArgs('straight', '--epochs', '3', '--scheduler', 'step', '--step-size', '1', '--gamma', '0.5'));
    expect(straight.code).toBe(0);
    expect(learned(readRows(out('extended')))).toEqual(learned(readRows(out('straight'))));
    expect(readRows(out('extended')).map((r) => r['lr'])).toEqual([0.001, 0.0005, 0.00025]);
  });
});

describe('stops', () => {
  it('stops on a NaN loss naming epoch and step, keeping the last good checkpoint', async () => {
    const run = await sepconv(vggArgs('nan'), { ...trainHooks, SEPCONV_TEST_NAN_AT: '2:2' });
    expect(run.code).toBe(1);
    expect(run.stderr).toContain('the loss became NaN at epoch 2, step 2; training stopped and the last good checkpoint (end of epoch 1) is kept in');
    expect(readRows(out('nan'))).toHaveLength(1);
    const identity = JSON.parse(sc.loadMetadata(join(out('nan'), 'last.safetensors'))['sepconv']!);
    expect([identity.epoch, identity.step]).toEqual([1, 0]); // one epoch finished
  });
});

describe('refusals', () => {
  it('refuses an output directory holding a run unless --resume or --overwrite', async () => {
    const again = await sepconv(vggArgs('vgg-regular'));
    expect(again.code).toBe(2);
    expect(again.stderr).toContain(`${out('vgg-regular')} already holds a training run (config.json, metrics.jsonl, last.safetensors, resume.safetensors); pass --resume ${out('vgg-regular')} to continue it or --overwrite to replace it`);
    const replaced = await sepconv(vggArgs('vgg-regular', '--epochs', '1', '--overwrite'));
    expect(replaced.code).toBe(0);
    expect(readRows(out('vgg-regular'))).toHaveLength(1);
  });

  it('says when a run or checkpoint is of another model or variant', async () => {
    const resume = await sepconv(['train', '--resume', out('vgg-dsc'), '--conv', 'regular']);
    expect(resume.code).toBe(2);
    expect(resume.stderr).toContain(`${out('vgg-dsc')} holds a vgg dsc run, not vgg regular: --conv 'dsc' (asked 'regular')`);
    const evaluated = await sepconv(['eval', '--checkpoint', join(out('vgg-dsc'), 'best.safetensors'), '--model', 'segnet']);
    expect(evaluated.code).toBe(1);
    expect(evaluated.stderr).toContain(`${join(out('vgg-dsc'), 'best.safetensors')} is a checkpoint of vgg (dsc), not segnet (dsc)`);
  });

  it('lists accepted values and flags, and says where it looked for missing data, writing nothing', async () => {
    const model = await sepconv(['train', '--model', 'resnet', '--out', out('bad')]);
    expect([model.code, model.stderr.split('\n')[0]]).toEqual([2, "sepconv train: --model 'resnet' is not one of: vgg, segnet, unet, mobilenet"]);
    const flag = await sepconv(['train', '--epoch', '3']);
    expect(flag.code).toBe(2);
    expect(flag.stderr).toMatch(/^sepconv train: Unknown option '--epoch'\n'sepconv train' accepts: --preset <value>, --model <value>, --conv <value>, .*--epochs <value>, /);
    if (!sc.backend().cuda) {
      const device = await sepconv(['train', '--device', 'cuda', '--out', out('bad')]);
      expect(device.code).toBe(2);
      expect(device.stderr.split('\n')[0]).toMatch(/^sepconv train: --device cuda: (this build has no usable CUDA backend|no CUDA device is visible).*; use --device cpu$/);
    }
    const command = await sepconv(['fit']);
    expect([command.code, command.stderr.split('\n')[0]]).toEqual([2, "sepconv: unknown command 'fit'; commands: summary, train, compare, eval, predict, export"]);
    const missing = await sepconv(['train', '--model', 'vgg', '--data-dir', join(root, 'nowhere'), '--out', out('no-data')]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain(`CIFAR-10 not found: looked for ${join(root, 'nowhere', 'cifar-10-batches-bin')}`);
    expect(missing.stderr).toContain('npm run datasets -- cifar10');
    expect(existsSync(out('no-data'))).toBe(false);
    expect(existsSync(out('bad'))).toBe(false);
  });
});

describe('sepconv compare', () => {
  it('trains both vgg variants and writes report.md and a self-contained report.html', async () => {
    const dir = out('compare-vgg');
    const run = await sepconv(['compare', '--model', 'vgg', '--data-dir', cifarDir, '--epochs', '1', '--batch-size', '8', '--limit', '16', '--val-limit', '8', '--out', dir]);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('== regular ==');
    expect(run.stdout).toContain('== DSC ==');
    const md = readFileSync(join(dir, 'report.md'), 'utf8');
    expect(md).toContain('| parameters | 1,186,378 | 174,821 | 0.147× |');
    expect(md).toContain('| features.0 | Conv2d | 1,792 |');
    const html = readFileSync(join(dir, 'report.html'), 'utf8');
    expect(html).toMatch(/<img alt="learning curves, regular vs DSC" src="data:image\/png;base64,[A-Za-z0-9+/=]{1000,}">/);
    expect(html).not.toMatch(/src="(?!data:)/);
    expect(existsSync(join(dir, 'regular', 'best.safetensors')) && existsSync(join(dir, 'dsc', 'best.safetensors'))).toBe(true);
    const again = await sepconv(['compare', '--model', 'vgg', '--data-dir', cifarDir, '--out', dir]);
    expect(again.code).toBe(2);
    expect(again.stderr).toContain(`${dir} already holds a comparison`);
  });
});

describe('sepconv eval and predict', () => {
  it('evaluates a checkpoint and prints parseable metrics', async () => {
    // No --data-dir: the checkpoint's run says where it trained.
    const run = await sepconv(['eval', '--checkpoint', join(out('segnet-dsc'), 'best.safetensors'), '--json']);
    expect(run.code).toBe(0);
    const result = JSON.parse(run.stdout);
    expect(result).toMatchObject({ model: 'segnet', conv: 'dsc', dataset: 'pets', split: 'test', items: 4 });
    for (const key of ['loss', 'pixelAccuracy', 'meanIoU', 'iouPet']) expect(Number.isFinite(result.metrics[key]), key).toBe(true);
  });

  it('takes resume.safetensors (a training state) as well as last.safetensors: the same weights, the same metrics', async () => {
    const metricsOf = async (file: string) => {
      const run = await sepconv(['eval', '--checkpoint', join(out('segnet-dsc'), file), '--json']);
      expect(run.code, run.stderr).toBe(0);
      return JSON.parse(run.stdout).metrics;
    };
    expect(await metricsOf('resume.safetensors')).toEqual(await metricsOf('last.safetensors'));
  });

  it('refuses a segmentation predict without --out as bad usage, naming the command once', async () => {
    const image = join(root, 'no-out.png');
    await sharp({ create: { width: 20, height: 20, channels: 3, background: '#808080' } }).png().toFile(image);
    const run = await sepconv(['predict', '--checkpoint', join(out('segnet-regular'), 'last.safetensors'), image]);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/^sepconv predict: a segmentation checkpoint writes mask files; pass --out DIR\n/);
  });

  it('writes a mask and an overlay per image for segmentation, at the image size', async () => {
    const image = join(root, 'photo.jpg');
    await sharp({ create: { width: 50, height: 40, channels: 3, background: '#c08040' } }).jpeg().toFile(image);
    const dir = join(root, 'predicted');
    const run = await sepconv(['predict', '--checkpoint', join(out('segnet-regular'), 'last.safetensors'), image, '--out', dir]);
    expect(run.code).toBe(0);
    const [prediction] = JSON.parse(run.stdout);
    expect(Object.keys(prediction.classFractions)).toEqual(['pet', 'background', 'border']);
    for (const file of ['photo.mask.png', 'photo.overlay.png', 'predictions.json']) expect(existsSync(join(dir, file)), file).toBe(true);
    const meta = await sharp(join(dir, 'photo.overlay.png')).metadata();
    expect([meta.width, meta.height]).toEqual([50, 40]);
  });

  it('lists the top-5 classes of a classifier and refuses unreadable images without writing', async () => {
    const image = join(root, 'small.png');
    await sharp({ create: { width: 32, height: 32, channels: 3, background: '#3060a0' } }).png().toFile(image);
    const run = await sepconv(['predict', '--checkpoint', join(out('vgg-dsc'), 'best.safetensors'), image]);
    expect(run.code).toBe(0);
    const [prediction] = JSON.parse(run.stdout);
    expect(prediction.top).toHaveLength(5);
    expect(prediction.top[0].probability).toBeGreaterThanOrEqual(prediction.top[4].probability);
    const bad = await sepconv(['predict', '--checkpoint', join(out('vgg-dsc'), 'best.safetensors'), BIN, '--out', join(root, 'never')]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain(`predict: ${BIN} is not an image (`);
    expect(existsSync(join(root, 'never'))).toBe(false);
  });
});
