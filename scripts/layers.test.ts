// The layering lint (eslint.layers.js) through ESLint's own API: imports that point up the layers of
// docs/ARCHITECTURE.md fail with boundaries/dependencies, the ones the map allows pass, and real files
// of the tree pass. The same check on the whole tree is `npm run lint`.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ESLint } from 'eslint';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const eslint = new ESLint({ cwd: ROOT });

/** Layer-rule messages for `code` as if it were the file at `file` (relative to the repository root). */
async function layerErrors(file: string, code: string): Promise<string[]> {
  const [r] = await eslint.lintText(code, { filePath: path.join(ROOT, file) });
  return r!.messages.filter((m) => m.ruleId === 'boundaries/dependencies' || m.ruleId === 'no-restricted-imports').map((m) => `${m.ruleId}: ${m.message}`);
}

const refused: [string, string, RegExp][] = [
  ['engine/graph/bad.ts', "import { CompiledGraph } from '../runtime/session.js';\nexport const x = CompiledGraph;\n", /graph may not import runtime/],
  ['engine/graph/nn/bad.ts', "import { Trainer } from '../../exec/trainer.js';\nexport const x = Trainer;\n", /graph may not import exec/],
  ['engine/runtime/bad.ts', "import { Trainer } from '../exec/trainer.js';\nexport const x = Trainer;\n", /runtime may not import exec/],
  ['engine/jobs/bad.ts', "import { ServiceError } from '../service/errors.js';\nexport const x = ServiceError;\n", /jobs may not import service/],
  ['engine/model/bad.ts', "import { generateVideo } from '../pipeline/generate.js';\nexport const x = generateVideo;\n", /model may not import pipeline/],
  ['engine/service/bad.ts', "import { startWebHost } from '../web-host/server.js';\nexport const x = startWebHost;\n", /service may not import web-host/],
  // The renderer takes only types from the engine.
  ['renderer/src/bad.ts', "import { DEFAULT_GENERATION } from '../../engine/service/contract.js';\nexport const x = DEFAULT_GENERATION;\n", /renderer may not import service/],
  ['renderer/src/bad.ts', "import { ffmpegPath } from '../../engine/runtime/ffmpeg.js';\nexport const x = ffmpegPath;\n", /renderer may not import runtime/],
  // engine/ imports no Electron (or React, or a browser driver).
  ['engine/runtime/bad.ts', "import { app } from 'electron';\nexport const x = app;\n", /may not import electron/],
];

for (const [file, code, expected] of refused) {
  test(`refused: ${file} → ${/from '([^']+)'/.exec(code)![1]}`, async () => {
    const errors = await layerErrors(file, code);
    assert.equal(errors.length, 1, errors.join('\n'));
    assert.match(errors[0]!, expected);
  });
}

const allowed: [string, string][] = [
  ['engine/graph/ok.ts', "import { add } from './ops/elementwise.js';\nexport const x = add;\n"],
  ['engine/exec/ok.ts', "import { CompiledGraph } from '../runtime/session.js';\nimport { Graph } from '../graph/graph.js';\nexport const x = [CompiledGraph, Graph];\n"],
  // A graph op's test runs the op: tests sit above every engine layer.
  ['engine/graph/ops/ok.test.ts', "import { gradcheck } from '../../exec/gradcheck.js';\nexport const x = gradcheck;\n"],
  ['engine/jobs/ok.ts', "import { ServiceError } from '../common/service-error.js';\nexport const x = ServiceError;\n"],
  ['renderer/src/ok.ts', "import type { JobView } from '../../engine/service/contract.js';\nexport type X = JobView;\n"],
  ['engine/web-host/ok.ts', "import { ServiceError } from '../service/errors.js';\nexport const x = ServiceError;\n"],
];

for (const [file, code] of allowed) {
  test(`allowed: ${file} → ${/from '([^']+)'/.exec(code)![1]}`, async () => {
    assert.deepEqual(await layerErrors(file, code), []);
  });
}

test('files of the tree that used to point upward now pass', async () => {
  const files = ['engine/graph/nn/train-step.ts', 'engine/exec/trainer.ts', 'engine/exec/gradcheck.ts', 'engine/jobs/queue.ts', 'engine/graph/ops/elementwise.ts', 'engine/graph/ops/reduce.ts', 'engine/graph/ops/shape.ts', 'engine/graph/vjp-rules.ts'];
  const results = await eslint.lintFiles(files.map((f) => path.join(ROOT, f)));
  const layerProblems = results.flatMap((r) => r.messages.filter((m) => m.ruleId?.startsWith('boundaries/')).map((m) => `${path.relative(ROOT, r.filePath)}: ${m.message}`));
  assert.deepEqual(layerProblems, []);
});
