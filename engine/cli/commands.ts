// Every `refree` subcommand, in the order `refree --help` lists them. Add new commands here.
import type { Command } from './command.js';
import { doctor } from './doctor.js';
import { evalCommand } from './eval.js';
import { farm } from './farm.js';
import { generate } from './generate.js';
import { models } from './models.js';
import { run } from './run.js';
import { selftest } from './selftest.js';
import { synth } from './synth.js';
import { train } from './train.js';
import { verify } from './verify.js';

export const commands: readonly Command[] = [doctor, selftest, models, run, generate, verify, evalCommand, synth, train, farm];
