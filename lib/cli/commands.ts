/** The `sepconv` subcommands, in the order `sepconv --help` lists them. Add new ones here. */
import type { Command } from './command.js';
import { exportCommand } from './export.js';
import { evalCommand, predictCommand } from './infer.js';
import { summaryCommand } from './summary.js';
import { compareCommand, trainCommand } from './train.js';

export const COMMANDS: readonly Command[] = [summaryCommand, trainCommand, compareCommand, evalCommand, predictCommand, exportCommand];
