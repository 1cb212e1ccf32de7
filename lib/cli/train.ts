/**
 * `sepconv train` and `sepconv compare`: flags → `sc.train.fit` / `sc.train.compare`, with a
 * progress display and Ctrl-C handling (first: finish the step, save, exit 130 with the resume
 * command; second: quit at once).
 */
import { basename, relative } from 'node:path';
import { planCompare, runComparison } from '../train/compare.js';
import type { ConvKind } from '../train/config.js';
import type { FitResult } from '../train/events.js';
import { startFit } from '../train/fit.js';
import { ProgressPrinter } from '../train/progress.js';
import { planRun } from '../train/rundir.js';
import type { CliIO, Command } from './command.js';
import { asUsage, flagsHelp, HELP_FLAG, parseFlags, TRAIN_FLAGS } from './flags.js';
import type { TrainFlagOptions } from './flags.js';

/** Exit codes of the training commands (0 and 2 as every command; 1 a failed run; 130 Ctrl-C). */
export const EXIT = { ok: 0, failed: 1, usage: 2, interrupted: 130 } as const;

/**
 * The command that runs `sepconv <args>` the way this process was started: through an npm
 * script (`npm run train:vgg -- …`), the installed bin (`sepconv …`) or node on the script.
 */
function sameInvocation(command: string, args: string): string {
  const script = process.env['npm_lifecycle_event'];
  const scriptLine = process.env['npm_lifecycle_script'] ?? '';
  if (script && /(^|\s)(sepconv|\S*cli\/index\.js)\s/.test(scriptLine)) return `npm run ${script} -- ${args}`;
  const entry = process.argv[1] ?? 'sepconv';
  if (basename(entry) === 'sepconv') return `sepconv ${command} ${args}`;
  const path = relative(process.cwd(), entry);
  return `node ${path.startsWith('..') ? entry : path} ${command} ${args}`;
}

/** Ctrl-C: the first asks the job to stop after its current step; the second exits at once. */
function interruptOnSigint(printer: ProgressPrinter, io: CliIO): { signal: AbortSignal; dispose(): void } {
  const controller = new AbortController();
  const onSigint = (): void => {
    printer.stop();
    if (controller.signal.aborted) {
      io.err('interrupted again: quitting without saving');
      process.exit(EXIT.interrupted);
    }
    io.err('stopping after the current step to save a checkpoint (Ctrl-C again to quit without saving)…');
    controller.abort();
  };
  process.on('SIGINT', onSigint);
  return { signal: controller.signal, dispose: () => process.off('SIGINT', onSigint) };
}

/** Runs a job with a progress display and Ctrl-C handling, then reports how it ended. */
async function withProgress(io: CliIO, job: (printer: ProgressPrinter, signal: AbortSignal) => Promise<Pick<FitResult, 'status' | 'message'>>, resumeCommand: string): Promise<number> {
  const printer = new ProgressPrinter({ print: io.out, warn: io.err });
  const sigint = interruptOnSigint(printer, io);
  try {
    const result = await job(printer, sigint.signal);
    printer.stop();
    if (result.status === 'completed') return EXIT.ok;
    if (result.status === 'interrupted') {
      io.err(`${result.message}; checkpoint saved. Resume with: ${resumeCommand}`);
      return EXIT.interrupted;
    }
    io.err(`error: ${result.message}`);
    return EXIT.failed;
  } finally {
    printer.stop();
    sigint.dispose();
  }
}

const TRAIN_HELP = `Usage: sepconv train [options]

Trains a model and writes config.json, metrics.jsonl/.csv, checkpoints (last.safetensors,
best.safetensors, resume.safetensors) and pictures (curves.png; masks.png and masks.gif for
segmentation) to the output directory.

Presets: keras-vgg (CIFAR-10, batch 128, 10 epochs, Adam 1e-3, no augmentation);
segnet-article (Pets 128×128, batch 64, 20 epochs, Adam 1e-3, flip + contrast 0.3,
StepLR(7, 0.7) for regular, none for DSC). Validation is on the test split.

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
  const plan = asUsage(() => planRun(fitOptions, 'cli'));
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

const { conv: _conv, ...COMPARE_FLAGS } = TRAIN_FLAGS;

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
  const plan = asUsage(() => planCompare(compareOptions, 'cli'));
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
