// `refree run t5 --prompt "…"`: the package's umT5 encoder through the T5 module's runT5 (tokenise,
// encode at the DiT's text length, trim + zero-pad), with the weights in the engine cache. Output
// (written by runT5): context F32 [1, textLen, dim], tokens/mask I64 [1, textLen], length I64 [1].
import { t5Params } from '../inventory/t5.js';
import { bucketName, compileInCache } from '../package/engine-cache.js';
import type { ModelSource } from '../package/source.js';
import type { RunT5Result } from '../t5/run.js';
import { runT5 } from '../t5/run.js';
import type { RunInfo, RunOptions } from './common.js';
import { RunError, chooseBackend, componentWeights } from './common.js';

export interface T5RunResult extends RunInfo, RunT5Result {}

export async function runT5FromSource(src: ModelSource, prompt: string, outPath: string, opts: RunOptions = {}): Promise<T5RunResult> {
  const t0 = performance.now();
  const t5 = src.arch.t5;
  if (!t5) throw new RunError(`architecture ${src.arch.name} has no text encoder; use a cached text context`);
  if (!src.tokenizerDir) throw new RunError(`${src.kind === 'package' ? `package "${src.name}"` : 'the model'} has no tokenizer (tokenizer.json); ${src.kind === 'package' ? 're-import the Wan2.2 folder with its google/umt5-xxl/ or tokenizer/ folder' : 'pass --tokenizer <dir>'}`);
  const { backend, dtype, open, skipped } = await chooseBackend(opts);
  const prepared = await componentWeights(src, 't5', t5Params(t5), dtype, opts);
  const textLen = src.arch.dit.textLen;
  const engines: string[] = [];
  let ran = backend;
  const r = await runT5(
    {
      t5,
      weights: prepared.provider,
      tokenizer: src.tokenizerDir,
      modelHash: src.components.t5!.sourceId,
      cacheDir: src.promptCacheDir,
      textLen,
      graph: { dtype },
      compile: async (g) => {
        const o = await compileInCache(g, prepared.dir, `${backend}.t5.${bucketName({ b: 1, len: textLen })}`, open);
        engines.push(o.modelPath);
        ran = o.backend;
        return o.session;
      },
    },
    prompt,
    outPath,
  );
  return {
    ...r,
    backend: ran,
    dtype,
    engines,
    weights: { inPlace: prepared.inPlace, converted: prepared.converted, writtenBytes: prepared.writtenBytes },
    notes: [...skipped.map((x) => `skipped ${x}`), ...prepared.notes],
    seconds: (performance.now() - t0) / 1000,
  };
}
