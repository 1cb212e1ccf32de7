/**
 * `sepconv train` and `sepconv compare`: flags → `sc.train.fit` / `sc.train.compare`, with a
 * progress display and stop-signal handling (SIGINT, SIGTERM, SIGHUP — Ctrl-C, containers,
 * systemd, CI, a closed terminal — alike; first: finish the step, save, exit 128 + the signal's
 * number with the resume command; second: quit at once, leaving the folder resumable from its
 * last checkpoint, or restartable if it has none).
 */
import { constants } from 'node:os';
import { basename, relative } from 'node:path';
import { planCompare, runComparison } from '../train/compare.js';
import type { ConvKind } from '../train/config.js';
import type { FitResult } from '../train/events.js';
import { startFit } from '../train/fit.js';
import { ProgressPrinter } from '../train/progress.js';
import { planRun } from '../train/rundir.js';
import { asUsage } from './command.js';
import type { CliIO, Command } from './command.js';
import { flagsHelp, HELP_FLAG, parseFlags, TRAIN_FLAGS } from './flags.js';
import type { TrainFlagOptions } from './flags.js';

/** Exit codes of the training commands (0 and 2 as every command; 1 a failed run; 128 + N stopped by signal N: 130 Ctrl-C). */
export const EXIT = { ok: 0, failed: 1, usage: 2, interrupted: 130 } as const;

/** The signals that stop a run the way Ctrl-C does. */
const STOP_SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;
type StopSignal = (typeof STOP_SIGNALS)[number];

const exitCodeOf = (signal: StopSignal): number => 128 + constants.signals[signal];

/**
 * The command that runs `sepconv <args>` the way this process was started: through an npm
 * script (`npm run train:vgg -- …`), npx (`npx sepconv …`), the installed bin (`sepconv …`) or
 * node on the script.
 */
function sameInvocation(command: string, args: string): string {
  const script = process.env['npm_lifecycle_event'];
  const scriptLine = process.env['npm_lifecycle_script'] ?? '';
  if (script && /(^|\s)(sepconv|\S*cli\/index\.js)\s/.test(scriptLine)) return `npm run ${script} -- ${args}`;
  const entry = process.argv[1] ?? 'sepconv';
  // npm exec / npx sets npm_command=exec for the process it starts.
  if (basename(entry) === 'sepconv') return `${process.env['npm_command'] === 'exec' ? 'npx ' : ''}sepconv ${command} ${args}`;
  const path = relative(process.cwd(), entry);
  return `node ${path.startsWith('..') ? entry : path} ${command} ${args}`;
}

/**
 * Stop signals: the first asks the job to stop after its current step (it saves); a second
 * exits at once. Checkpoints are replaced atomically, so the folder then still resumes from
 * its last one (or, holding none yet, is restarted by the next `train` into it).
 */
function interruptOnSignals(printer: ProgressPrinter, io: CliIO): { signal: AbortSignal; received(): StopSignal | null; dispose(): void } {
  const controller = new AbortController();
  let first: StopSignal | null = null;
  const handlers = STOP_SIGNALS.map((name) => {
    const handler = (): void => {
      printer.stop();
      if (first !== null) {
        io.err(`${name} again: quitting now; the run resumes from its last checkpoint (or restarts if it has none)`);
        process.exit(exitCodeOf(name));
      }
      first = name;
      io.err(`${name}: stopping after the current step to save a checkpoint (a second signal quits at once)…`);
      controller.abort();
    };
    process.on(name, handler);
    return [name, handler] as const;
  });
  return {
    signal: controller.signal,
    received: () => first,
    dispose: () => handlers.forEach(([name, handler]) => process.off(name, handler)),
  };
}

/** Runs a job with a progress display and Ctrl-C handling, then reports how it ended. */
async function withProgress(io: CliIO, job: (printer: ProgressPrinter, signal: AbortSignal) => Promise<Pick<FitResult, 'status' | 'message'>>, resumeCommand: string): Promise<number> {
  const printer = new ProgressPrinter({ print: io.out, warn: io.err });
  const stops = interruptOnSignals(printer, io);
  try {
    const result = await job(printer, stops.signal);
    printer.stop();
    if (result.status === 'completed') return EXIT.ok;
    if (result.status === 'interrupted') {
      io.err(`${result.message}; checkpoint saved. Resume with: ${resumeCommand}`);
      return exitCodeOf(stops.received() ?? 'SIGINT');
    }
    io.err(`error: ${result.message}`);
    return EXIT.failed;
  } finally {
    printer.stop();
    stops.dispose();
  }
}

const TRAIN_HELP = `Usage: sepconv train [options]

Trains a model and writes config.json, metrics.jsonl/.csv, checkpoints (last.safetensors,
best.safetensors, resume.safetensors) and pictures (curves.png; masks.png and masks.gif for
segmentation) to the output directory.

Presets: keras-vgg (CIFAR-10, batch 128, 10 epochs, Adam 1e-3 with eps 1e-7, no augmentation,
Keras' initialisation and raw 0–255 pixels, as the Keras reference);
segnet-article (Pets 128×128, batch 64, 20 epochs, Adam 1e-3, flip + contrast 0.3,
StepLR(7, 0.7) for regular, none for DSC); unet-article (UNet on Pets 128×128, batch 16,
100 epochs, Adam 1e-3, flip + rotation 15° + channel dropout 0.1 + block erasing 0.25,
StepLR(25, 0.8)). Validation is on the test split.

Options:
${flagsHelp({ ...TRAIN_FLAGS, ...HELP_FLAG })}

Ctrl-C finishes the current step, saves a checkpoint and exits with code 130; continue with
--resume DIR. Exit codes: 0 done, 1 failed (e.g. the loss became NaN), 2 bad usage, 130 interrupted.

Examples:
  sepconv train --preset keras-vgg --conv dsc --data-dir ../shared/datasets
  sepconv train --resume runs/vgg-dsc --epochs 20`;

async function runTrain(argv: string[], io: CliIO): Promise<number> {
  const { options } = parseFlags('train', argv, { ...TRAIN_FLAGS, ...HELP_FLAG });
  const { help, ...fitOptions } = options as TrainFlagOptions;
  if (help) {
    io.out(TRAIN_HELP);
    return EXIT.ok;
  }
  const plan = asUsage(() => planRun(fitOptions));
  return withProgress(
    io,
    async (printer, signal) => {
      const result = await startFit(plan, { onEvent: (e) => printer.handle(e), signal });
      printer.stop();
      if (result.status === 'completed')
        io.out(`done: best ${result.best.monitor} ${result.best.value.toFixed(4)} at epoch ${result.best.epoch}; files in ${result.runDir}`);
      return result;
    },
    sameInvocation('train', `--resume ${plan.config.out}`),
  );
}

export const trainCommand: Command = {
  name: 'train',
  description: 'train a model (presets keras-vgg, segnet-article); Ctrl-C saves and can be resumed',
  help: TRAIN_HELP,
  run: runTrain,
};

const { conv: _conv, ...TRAIN_FLAGS_BUT_CONV } = TRAIN_FLAGS;
const COMPARE_FLAGS = { ...TRAIN_FLAGS_BUT_CONV, out: { ...TRAIN_FLAGS.out!, help: 'output directory (default runs/compare-<model>)' } };

const COMPARE_HELP = `Usage: sepconv compare --model vgg|segnet [options]

Trains the regular and the DSC variant with the same seed, data order and budget into
OUT/regular and OUT/dsc, then writes OUT/report.md, a self-contained OUT/report.html and
OUT/curves.png (both variants overlaid). Output directory default: runs/compare-<model>.

Options (those of sepconv train, without --conv):
${flagsHelp({ ...COMPARE_FLAGS, ...HELP_FLAG })}

Examples:
  sepconv compare --preset keras-vgg --data-dir ../shared/datasets
  sepconv compare --resume runs/compare-vgg`;

async function runCompare(argv: string[], io: CliIO): Promise<number> {
  const { options } = parseFlags('compare', argv, { ...COMPARE_FLAGS, ...HELP_FLAG });
  const { help, ...compareOptions } = options as TrainFlagOptions;
  if (help) {
    io.out(COMPARE_HELP);
    return EXIT.ok;
  }
  const plan = asUsage(() => planCompare(compareOptions));
  return withProgress(
    io,
    async (printer, signal) => {
      let current: ConvKind | null = null;
      const result = await runComparison(plan, {
        signal,
        onEvent: (event, conv) => {
          if (conv !== current) {
            current = conv;
            printer.stop();
            io.out(`== ${conv === 'dsc' ? 'DSC' : 'regular'} ==`);
          }
          printer.handle(event);
        },
      });
      printer.stop();
      if (result.report) io.out(`report: ${result.report.markdown}, ${result.report.html}`);
      return { status: result.status, message: (result.dsc ?? result.regular)?.message };
    },
    sameInvocation('compare', `--resume ${plan.out}`),
  );
}

export const compareCommand: Command = {
  name: 'compare',
  description: 'train the regular and the DSC variant alike and write report.md / report.html',
  help: COMPARE_HELP,
  run: runCompare,
};
