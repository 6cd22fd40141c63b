// The shape of a `refree` subcommand. Each command lives in its own file and is listed in
// commands.ts; later issues add generate, verify, models, run and train the same way.
import type { ParseArgsConfig } from 'node:util';

export interface CliIO {
  stdout(text: string): void;
  stderr(text: string): void;
  /** Whether stderr is a terminal (progress lines redraw in place only there). */
  readonly isTTY: boolean;
}

export type OptionSpec = NonNullable<ParseArgsConfig['options']>;

export interface CommandContext {
  /** Parsed option values (per the command's `options`). */
  values: Record<string, string | boolean | (string | boolean)[] | undefined>;
  positionals: string[];
  /** `--json`: print exactly one JSON object on stdout, nothing else there. */
  json: boolean;
  io: CliIO;
  /** Aborted on Ctrl-C, so long commands can cancel their engine jobs cleanly. */
  signal: AbortSignal;
}

export interface Command {
  name: string;
  /** One line for `refree --help`. */
  summary: string;
  /** Usage lines and option help for `refree <name> --help`. */
  help: string;
  options: OptionSpec;
  /** Returns the process exit code. */
  run(ctx: CommandContext): Promise<number>;
}

/** A problem with the command line itself (exit code 2, with a pointer to --help). */
export class UsageError extends Error {
  override name = 'UsageError';
}
