// The hook the DiT calls in every block (engine/model/dit/block.ts, `inject`). Blocks listed in
// cfg.injectBlocks get: level selector → speech summary → FiLM (or windowed cross-attention); all
// other blocks return x untouched. Parameters come from the provider by name (params.ts).
import type { Tensor } from '../../graph/graph.js';
import { GraphBuildError, ShapeError } from '../../graph/errors.js';
import type { AttentionImpl } from '../../graph/ops/attention.js';
import { cast } from '../../graph/ops/elementwise.js';
import type { InjectHook } from '../dit/block.js';
import type { WeightProvider } from '../weight-provider.js';
import type { ReFreeConfig } from './config.js';
import { crossAttentionInject } from './cross-attention.js';
import type { CrossAttnParams } from './cross-attention.js';
import { filmInject } from './film.js';
import { blockPrefix, refreeWeights } from './params.js';
import type { ReFreeWeights } from './params.js';
import { selectLevels } from './selector.js';

export interface SpeechInjectContext {
  /** Latent frames F of the token grid. */
  frames: number;
  /** Tokens per latent frame (h·w after patching). */
  tokensPerFrame: number;
  /**
   * FiLM mode: the encoder's levels [B, L, F, D], or an already-mixed summary [B, F, D].
   * Cross-attention mode: window tokens per level [B, L, F, W, D], or already mixed [B, F, W, D].
   */
  speech: Tensor;
}

export type ReFreeInjector = (blockIndex: number, x: Tensor, ctx: SpeechInjectContext) => Tensor;

export interface InjectorOptions {
  /** Attention form of the cross-attention variant (default 'naive'). */
  attention?: AttentionImpl;
}

function mixed(c: ReFreeConfig, w: ReFreeWeights, block: number, speech: Tensor, dtype: Tensor['dtype']): Tensor {
  const perLevelRank = c.mode === 'film' ? 4 : 5;
  let s = speech;
  if (speech.rank === perLevelRank) {
    if (speech.shape[1] !== c.levels) throw new ShapeError('ReFreeInjector', [speech.shape], `speech has ${speech.shape[1]} levels on axis 1, the config has ${c.levels}`);
    // The selector mixes in the speech dtype (softmax stays in float32 when the DiT runs float16).
    s = selectLevels(speech, w.param(`${blockPrefix(block)}.selector`, speech.dtype));
  } else if (speech.rank !== perLevelRank - 1) {
    throw new ShapeError('ReFreeInjector', [speech.shape], c.mode === 'film' ? 'speech must be levels [B, L, F, D] or a summary [B, F, D]' : 'speech must be window tokens [B, L, F, W, D] or [B, F, W, D]');
  }
  return s.dtype === dtype ? s : cast(s, dtype);
}

/** Builds the injector; each call adds the block's nodes to x's graph (parameters are fetched once per graph). */
export function makeInjector(c: ReFreeConfig, provider: WeightProvider, opts: InjectorOptions = {}): ReFreeInjector {
  const blocks = new Set(c.injectBlocks);
  const perGraph = new WeakMap<object, ReFreeWeights>();
  return (block, x, ctx) => {
    if (!blocks.has(block)) return x;
    if (x.rank !== 3 || x.shape[2] !== c.dim) throw new ShapeError('ReFreeInjector', [x.shape], `block ${block}: hidden state must be [B, L, dim=${c.dim}]`);
    if (ctx.speech.graph !== x.graph) throw new GraphBuildError('ReFreeInjector', 'the speech tensor belongs to another graph than the DiT hidden state');
    let w = perGraph.get(x.graph);
    if (!w) perGraph.set(x.graph, (w = refreeWeights(x.graph, c, provider)));
    const ww = w;
    const p = blockPrefix(block);
    const layout = { frames: ctx.frames, tokensPerFrame: ctx.tokensPerFrame };
    return x.graph.scope(p, () => {
      const s = mixed(c, ww, block, ctx.speech, x.dtype);
      if (c.mode === 'film') return filmInject(x, s, ww.param(`${p}.film.weight`, x.dtype), ww.param(`${p}.film.bias`, x.dtype), c.filmHeads, layout);
      const params: CrossAttnParams = { param: (n) => ww.param(`${p}.cross_attn.${n}`, x.dtype) };
      return crossAttentionInject(x, s, params, { heads: c.filmHeads, eps: c.eps, attention: opts.attention }, layout);
    });
  };
}

/** Adapts an injector to the DiT's hook (engine/model/dit/block.ts) with the encoder's speech tensor. */
export function ditInjectHook(injector: ReFreeInjector, speech: Tensor): InjectHook {
  return (block, x, ctx) => injector(block, x, { frames: ctx.grid.frames, tokensPerFrame: ctx.tokensPerFrame, speech });
}
