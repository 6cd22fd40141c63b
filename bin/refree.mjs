#!/usr/bin/env node
// The `refree` command (package.json "bin"). The CLI is TypeScript; this launcher registers tsx's
// loader in this process and runs engine/cli/main.ts. Ctrl-C aborts the running command, which
// cancels its engine job between runs; a second Ctrl-C exits at once.
/* global AbortController */
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../engine/cli/main.ts');
const controller = new AbortController();
let interrupted = false;
process.on('SIGINT', () => {
  if (interrupted) process.exit(130);
  interrupted = true;
  controller.abort();
});
process.exitCode = await main(process.argv.slice(2), undefined, controller.signal);
