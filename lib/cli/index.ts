#!/usr/bin/env node
/** The `sepconv` command: dispatches to its subcommands. */
import { evalCommand, predictCommand } from './infer.js';
import { compareCommand, EXIT, trainCommand } from './train.js';

const COMMANDS: Record<string, { run: (argv: readonly string[]) => Promise<number>; summary: string }> = {
  train: { run: trainCommand, summary: 'train a model (presets keras-vgg, segnet-article)' },
  compare: { run: compareCommand, summary: 'train the regular and the DSC variant and write a report' },
  eval: { run: evalCommand, summary: 'loss and metrics of a checkpoint on a data split' },
  predict: { run: predictCommand, summary: 'run a checkpoint on image files' },
};

function help(): string {
  const width = Math.max(...Object.keys(COMMANDS).map((c) => c.length));
  return `usage: sepconv <command> [flags]   (sepconv <command> --help for its flags)\n\n${Object.entries(COMMANDS)
    .map(([name, c]) => `  ${name.padEnd(width)}  ${c.summary}`)
    .join('\n')}`;
}

async function main(argv: readonly string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    console.log(help());
    return name === undefined ? EXIT.usage : EXIT.ok;
  }
  const command = COMMANDS[name];
  if (!command) {
    console.error(`sepconv: unknown command ${JSON.stringify(name)}; accepted: ${Object.keys(COMMANDS).join(', ')}`);
    return EXIT.usage;
  }
  return command.run(rest);
}

process.exitCode = await main(process.argv.slice(2));
