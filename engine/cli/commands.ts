// Every `refree` subcommand, in the order `refree --help` lists them. Add new commands here.
import type { Command } from './command.js';
import { doctor } from './doctor.js';
import { selftest } from './selftest.js';

export const commands: readonly Command[] = [doctor, selftest];
