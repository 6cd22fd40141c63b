// `refree`: the command-line host. Conventions for every subcommand:
//   - `refree <command> --help` explains it; `refree --help` lists commands;
//   - `--json` prints exactly one JSON object on stdout (errors too: {"ok": false, "error": "..."});
//     human output otherwise; progress and diagnostics go to stderr;
//   - exit code 0 success, 1 failure, 2 bad command line.
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { fsErrorSentence } from '../common/fs-errors.js';
import type { CliIO, Command } from './command.js';
import { UsageError } from './command.js';
import { commands } from './commands.js';
import { json, table } from './output.js';

const GLOBAL_OPTIONS = { json: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } } as const;

function version(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
  return pkg.version;
}

function overview(): string {
  return `refree ${version()} — ReFree Studio command line

Usage: refree <command> [options] [--json]

Commands:
${table(commands.map((c) => [c.name, c.summary]))}

Options for every command:
  --json       print one JSON object on stdout instead of text
  -h, --help   help for a command: refree <command> --help
  --version    print the version`;
}

export const processIO: CliIO = {
  stdout: (t) => void process.stdout.write(t.endsWith('\n') ? t : `${t}\n`),
  stderr: (t) => void process.stderr.write(t),
  isTTY: Boolean(process.stderr.isTTY),
};

export async function main(argv: readonly string[], io: CliIO = processIO, signal?: AbortSignal): Promise<number> {
  const asJson = argv.includes('--json');
  const fail = (code: number, message: string, cmd?: Command): number => {
    if (asJson) io.stdout(json({ ok: false, error: message }));
    else io.stderr(`refree${cmd ? ` ${cmd.name}` : ''}: ${message}${code === 2 ? `\nRun "refree ${cmd ? `${cmd.name} ` : ''}--help" for usage.` : ''}\n`);
    return code;
  };
  const name = argv.find((a) => !a.startsWith('-'));
  if (!name) {
    if (argv.includes('--version')) {
      io.stdout(asJson ? json({ version: version() }) : version());
      return 0;
    }
    if (argv.includes('--help') || argv.includes('-h') || argv.length === 0) {
      io.stdout(asJson ? json({ commands: commands.map((c) => ({ name: c.name, summary: c.summary })) }) : overview());
      return 0;
    }
    return fail(2, `unknown option ${argv[0]}`);
  }
  const cmd = name === 'help' ? undefined : commands.find((c) => c.name === name);
  if (name === 'help') {
    const target = commands.find((c) => c.name === argv[argv.indexOf('help') + 1]);
    io.stdout(target ? target.help : overview());
    return 0;
  }
  if (!cmd) return fail(2, `unknown command "${name}" (commands: ${commands.map((c) => c.name).join(', ')})`);
  const rest = argv.filter((a, i) => i !== argv.indexOf(name));
  let parsed;
  try {
    parsed = parseArgs({ args: rest, options: { ...GLOBAL_OPTIONS, ...cmd.options }, allowPositionals: true, strict: true });
  } catch (e) {
    return fail(2, (e as Error).message, cmd);
  }
  if (parsed.values.help) {
    io.stdout(cmd.help);
    return 0;
  }
  const controller = new AbortController();
  signal?.addEventListener('abort', () => controller.abort(), { once: true });
  try {
    return await cmd.run({ values: parsed.values as Record<string, string | boolean | undefined>, positionals: parsed.positionals, json: asJson, io, signal: controller.signal });
  } catch (e) {
    // A raw file-system error that no command turned into a sentence still reads as one.
    return fail(e instanceof UsageError ? 2 : 1, fsErrorSentence(e) ?? (e as Error).message, cmd);
  }
}
