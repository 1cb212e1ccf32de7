/** The `sepconv` subcommands, in the order `sepconv --help` lists them. Add new ones here. */
import type { Command } from './command.js';
import { summaryCommand } from './summary.js';

export const COMMANDS: readonly Command[] = [summaryCommand];
