/**
 * `sepconv train` and `sepconv compare`: flags → `sc.train.fit` / `sc.train.compare`, with a
 * progress display and Ctrl-C handling (first: finish the step, save, exit 130 with the resume
 * command; second: quit at once).
 */
import { SepconvError } from '../errors.js';
import { compare } from '../train/compare.js';
import type { ConvKind } from '../train/config.js';
import type { FitResult } from '../train/events.js';
import { fit } from '../train/fit.js';
import { ProgressPrinter } from '../train/progress.js';
import { flagsHelp, HELP_FLAG, parseFlags, TRAIN_FLAGS, UsageError } from './flags.js';
import type { TrainFlagOptions } from './flags.js';

export const EXIT = { ok: 0, failed: 1, usage: 2, interrupted: 130 } as const;

/** How the package's binary is invoked in printed commands. */
const BIN = 'npx sepconv';

/** Ctrl-C: the first asks the job to stop after its current step; the second exits at once. */
function interruptOnSigint(printer: ProgressPrinter): { signal: AbortSignal; dispose(): void } {
  const controller = new AbortController();
  const onSigint = (): void => {
    printer.stop();
    if (controller.signal.aborted) {
      console.error('interrupted again: quitting without saving');
      process.exit(EXIT.interrupted);
    }
    console.error('stopping after the current step to save a checkpoint (Ctrl-C again to quit without saving)…');
    controller.abort();
  };
  process.on('SIGINT', onSigint);
  return { signal: controller.signal, dispose: () => process.off('SIGINT', onSigint) };
}

/** Prints how a run ended and returns the exit code. */
function reportEnd(result: Pick<FitResult, 'status' | 'message'>, resumeCommand: string): number {
  if (result.status === 'completed') return EXIT.ok;
  if (result.status === 'interrupted') {
    console.error(`${result.message}; checkpoint saved. Resume with: ${resumeCommand}`);
    return EXIT.interrupted;
  }
  console.error(`error: ${result.message}`);
  return EXIT.failed;
}

/** Runs a command body, turning errors into messages and exit codes. */
export async function runCommand(command: string, usage: string, body: () => Promise<number>): Promise<number> {
  try {
    return await body();
  } catch (err) {
    if (err instanceof UsageError) {
      console.error(`sepconv ${command}: ${err.message}\n${usage}`);
      return EXIT.usage;
    }
    if (err instanceof SepconvError) {
      console.error(`sepconv ${command}: ${err.message}`);
      return EXIT.usage;
    }
    console.error(`sepconv ${command} failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
    return EXIT.failed;
  }
}

const TRAIN_USAGE = 'usage: sepconv train [--preset NAME] [--model M] [--conv C] [flags] (sepconv train --help lists them)';

export function trainHelp(): string {
  return `usage: sepconv train [flags]

Trains a model and writes config.json, metrics.jsonl/.csv, checkpoints (last/best.safetensors)
and pictures (curves.png; masks.png and masks.gif for segmentation) to the output directory.

Presets: keras-vgg (CIFAR-10, batch 128, 10 epochs, Adam 1e-3, no augmentation);
segnet-article (Pets 128×128, batch 64, 20 epochs, Adam 1e-3, flip + contrast 0.3,
StepLR(7, 0.7) for regular, none for DSC).

${flagsHelp({ ...TRAIN_FLAGS, ...HELP_FLAG })}

Ctrl-C finishes the current step, saves a checkpoint and exits with code 130; resume with
--resume DIR. Exit codes: 0 done, 1 failed (e.g. the loss became NaN), 2 bad input, 130 interrupted.`;
}

/** `sepconv train …` */
export function trainCommand(argv: readonly string[]): Promise<number> {
  return runCommand('train', TRAIN_USAGE, async () => {
    const { options } = parseFlags('train', argv, { ...TRAIN_FLAGS, ...HELP_FLAG });
    const { help, ...fitOptions } = options as TrainFlagOptions;
    if (help) {
      console.log(trainHelp());
      return EXIT.ok;
    }
    const printer = new ProgressPrinter();
    const sigint = interruptOnSigint(printer);
    try {
      const result = await fit(fitOptions, { onEvent: (e) => printer.handle(e), signal: sigint.signal });
      printer.stop();
      if (result.status === 'completed')
        console.log(`done: best ${result.best.monitor} ${result.best.value.toFixed(4)} at epoch ${result.best.epoch}; files in ${result.runDir}`);
      return reportEnd(result, `${BIN} train --resume ${result.runDir}`);
    } finally {
      printer.stop();
      sigint.dispose();
    }
  });
}

const COMPARE_USAGE = 'usage: sepconv compare --model vgg|segnet [--preset NAME] [train flags except --conv] (sepconv compare --help lists them)';

/** `sepconv compare …` */
export function compareCommand(argv: readonly string[]): Promise<number> {
  const { conv: _conv, ...flags } = TRAIN_FLAGS;
  return runCommand('compare', COMPARE_USAGE, async () => {
    const { options } = parseFlags('compare', argv, { ...flags, ...HELP_FLAG });
    const { help, ...compareOptions } = options as TrainFlagOptions;
    if (help) {
      console.log(`usage: sepconv compare [flags]

Trains the regular and the DSC variant with the same seed, data order and budget into
OUT/regular and OUT/dsc, then writes OUT/report.md and a self-contained OUT/report.html.

${flagsHelp({ ...flags, ...HELP_FLAG })}`);
      return EXIT.ok;
    }
    const printer = new ProgressPrinter();
    const sigint = interruptOnSigint(printer);
    let current: ConvKind | null = null;
    try {
      const result = await compare(compareOptions, {
        signal: sigint.signal,
        onEvent: (event, conv) => {
          if (conv !== current) {
            current = conv;
            printer.stop();
            console.log(`== ${conv === 'dsc' ? 'DSC' : 'regular'} ==`);
          }
          printer.handle(event);
        },
      });
      printer.stop();
      const last = result.dsc ?? result.regular!;
      if (result.report) console.log(`report: ${result.report.markdown}, ${result.report.html}`);
      return reportEnd({ status: result.status, message: last.message }, `${BIN} compare --resume ${result.outDir}`);
    } finally {
      printer.stop();
      sigint.dispose();
    }
  });
}
