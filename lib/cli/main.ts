/** The `sepconv` command line: dispatches to a subcommand and turns errors into exit codes. */
import { createRequire } from 'node:module';
import { COMMANDS } from './commands.js';
import { UsageError } from './command.js';
import type { CliIO } from './command.js';

function topHelp(): string {
  const width = Math.max(...COMMANDS.map((c) => c.name.length));
  return [
    'Usage: sepconv <command> [options]',
    '',
    'Commands:',
    ...COMMANDS.map((c) => `  ${c.name.padEnd(width)}   ${c.description}`),
    '',
    "Run 'sepconv <command> --help' for a command's options.",
  ].join('\n');
}

function version(): string {
  const require = createRequire(import.meta.url);
  return (require('../../package.json') as { version: string }).version;
}

/**
 * Runs `sepconv` with `argv` (without node and the script). Returns the exit code:
 * 0 success, 1 a command failed, 2 bad usage.
 */
export async function main(argv: string[], io: CliIO): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    io.out(topHelp());
    return name === undefined ? 2 : 0;
  }
  if (name === '--version' || name === '-v') {
    io.out(version());
    return 0;
  }
  const command = COMMANDS.find((c) => c.name === name);
  try {
    if (command === undefined) throw new UsageError(`unknown command '${name}'; commands: ${COMMANDS.map((c) => c.name).join(', ')}`);
    return await command.run(rest, io);
  } catch (err) {
    const where = command === undefined ? 'sepconv' : `sepconv ${command.name}`;
    // Errors may name their operation ('predict: …'); the command already says it.
    const text = err instanceof Error ? err.message : String(err);
    const message = command !== undefined && text.startsWith(`${command.name}: `) ? text.slice(command.name.length + 2) : text;
    if (err instanceof UsageError) {
      io.err(`${where}: ${message}\nRun '${where} --help' for usage.`);
      return 2;
    }
    io.err(`${where}: ${message}`);
    return 1;
  }
}
