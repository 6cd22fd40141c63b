// Float64 finite-difference check of the whole adapter path the trainer differentiates: speech features
// → encoder (in_proj, level convs, shared MLP with level embedding, window gather + pool, LayerNorms)
// → level selector → FiLM on the video tokens, with every weight a float64 graph input.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { gradcheck } from '../../exec/gradcheck.js';
import { mul, tanh } from '../../graph/ops/elementwise.js';
import { reduceSum } from '../../graph/ops/reduce.js';
import { InputWeightProvider } from '../weight-provider.js';
import type { ReFreeConfig } from './config.js';
import { validateReFreeConfig } from './config.js';
import { makeInjector } from './injector.js';
import { refreeWeights } from './params.js';
import { speechEncoder } from './speech-encoder.js';

const base: ReFreeConfig = validateReFreeConfig({
  dim: 8, layers: 1, filmHeads: 2, speechDim: 3, hidden: 4, mlpHidden: 6, levels: 2, kernelSizes: [1, 3],
  injectBlocks: [0], injectAt: 'after_self_attn', window: { past: 1, future: 1 }, temporalStride: 4, mode: 'film', eps: 1e-6,
});

for (const mode of ['film', 'cross-attention'] as const) {
  test(`float64 gradcheck: speech encoder + selector + ${mode} w.r.t. weights and features`, async () => {
    const c = { ...base, mode };
    const names = mode === 'film'
      ? ['refree.blocks.0.selector', 'refree.blocks.0.film.weight', 'refree.speech_encoder.levels.1.conv.weight', 'refree.speech_encoder.level_embed', 'refree.speech_encoder.pool.weight']
      : ['refree.blocks.0.selector', 'refree.blocks.0.cross_attn.k.weight', 'refree.speech_encoder.window_pos', 'refree.speech_encoder.levels.1.conv.weight'];
    const r = await gradcheck((g) => {
      const provider = new InputWeightProvider('float64');
      const features = g.input('speech_features', 'float64', [1, 9, c.speechDim]); // 3 latent frames
      const x = g.input('x', 'float64', [1, 3 * 2, c.dim]); // 2 tokens per latent frame
      const enc = speechEncoder(c, refreeWeights(g, c, provider), features);
      const y = makeInjector(c, provider)(0, x, { frames: 3, tokensPerFrame: 2, speech: enc.speech });
      const probe = g.constant('float64', y.shape, Array.from({ length: y.size }, (_, i) => Math.sin(0.37 * i + 0.2)));
      const wrt = [...names.map((n) => g.inputs.find((t) => t.name === n)!), features, x];
      return { loss: reduceSum(mul(tanh(y), probe)), wrt };
    }, {}, { samplesPerTensor: 6 });
    console.log(`  ${mode}: max rel error ${r.maxRelError.toExponential(2)} over ${r.checked} entries`);
    assert.ok(r.maxRelError <= 1e-6, `max rel error ${r.maxRelError} (${r.worst})`);
  });
}
