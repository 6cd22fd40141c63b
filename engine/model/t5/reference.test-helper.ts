// A plain-JS float64 umT5 encoder written straight from W22 t5.py (T5Encoder / T5SelfAttention /
// T5Attention / T5FeedForward / T5LayerNorm / T5RelativeEmbedding), sharing no code with the graph:
// even the relative-position bucket is recomputed here in float64 from the formula, and the padding
// mask is applied as masked_fill (the masked keys are skipped) rather than as an additive bias.
import type { T5Config } from '../config.js';

export type RefWeights = ReadonlyMap<string, Float32Array>;

function w(weights: RefWeights, name: string): Float32Array {
  const t = weights.get(name);
  if (!t) throw new Error(`reference: missing weight ${name}`);
  return t;
}

/** T5 bidirectional bucket in float64 (HF / Wan formula). */
export function refBucket(rel: number, numBuckets: number, maxDistance: number): number {
  const half = numBuckets / 2;
  let bucket = rel > 0 ? half : 0;
  const n = Math.abs(rel);
  const maxExact = half / 2;
  if (n < maxExact) return bucket + n;
  bucket += Math.min(half - 1, maxExact + Math.floor((Math.log(n / maxExact) / Math.log(maxDistance / maxExact)) * (half - maxExact)));
  return bucket;
}

/** weight · x / sqrt(mean(x²) + eps) for each row of [rows, d]. */
function rmsNormRows(x: Float64Array, rows: number, d: number, weight: Float32Array, eps: number): Float64Array {
  const out = new Float64Array(rows * d);
  for (let r = 0; r < rows; r++) {
    let ms = 0;
    for (let c = 0; c < d; c++) ms += x[r * d + c]! ** 2;
    const inv = 1 / Math.sqrt(ms / d + eps);
    for (let c = 0; c < d; c++) out[r * d + c] = weight[c]! * x[r * d + c]! * inv;
  }
  return out;
}

/** x [rows, in] · Wᵀ, W [out, in]. */
function linearRows(x: Float64Array, rows: number, inF: number, weight: Float32Array, outF: number): Float64Array {
  const out = new Float64Array(rows * outF);
  for (let r = 0; r < rows; r++) {
    for (let o = 0; o < outF; o++) {
      let s = 0;
      for (let i = 0; i < inF; i++) s += x[r * inF + i]! * weight[o * inF + i]!;
      out[r * outF + o] = s;
    }
  }
  return out;
}

const geluTanh = (v: number): number => 0.5 * v * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (v + 0.044715 * v ** 3)));

/**
 * The encoder output [L, dim] (final norm applied, every row, padding rows included) for one prompt:
 * `ids` of length L, the first `length` of which are real (mask 1), the rest padding.
 */
export function t5Reference(cfg: T5Config, weights: RefWeights, ids: readonly number[], length: number, opts: { eps?: number; maxDistance?: number } = {}): Float64Array {
  const eps = opts.eps ?? 1e-6;
  const maxDistance = opts.maxDistance ?? 128;
  const L = ids.length;
  const { dim, heads, ffnDim } = cfg;
  const dh = dim / heads;
  const emb = w(weights, 'token_embedding.weight');
  let x = new Float64Array(L * dim);
  ids.forEach((id, t) => {
    for (let c = 0; c < dim; c++) x[t * dim + c] = emb[id * dim + c]!;
  });
  for (let layer = 0; layer < cfg.layers; layer++) {
    const b = `blocks.${layer}`;
    const posEmb = w(weights, `${b}.pos_embedding.embedding.weight`); // [numBuckets, heads]
    const h = rmsNormRows(x, L, dim, w(weights, `${b}.norm1.weight`), eps);
    const q = linearRows(h, L, dim, w(weights, `${b}.attn.q.weight`), dim);
    const k = linearRows(h, L, dim, w(weights, `${b}.attn.k.weight`), dim);
    const v = linearRows(h, L, dim, w(weights, `${b}.attn.v.weight`), dim);
    const att = new Float64Array(L * dim);
    const logits = new Float64Array(L);
    for (let n = 0; n < heads; n++) {
      for (let i = 0; i < L; i++) {
        let mx = -Infinity;
        for (let j = 0; j < length; j++) {
          let s = 0;
          for (let c = 0; c < dh; c++) s += q[i * dim + n * dh + c]! * k[j * dim + n * dh + c]!;
          s += posEmb[refBucket(j - i, cfg.numBuckets, maxDistance) * heads + n]!; // no 1/√d
          logits[j] = s;
          mx = Math.max(mx, s);
        }
        let z = 0;
        for (let j = 0; j < length; j++) z += (logits[j] = Math.exp(logits[j]! - mx));
        for (let j = 0; j < length; j++) {
          const p = logits[j]! / z;
          for (let c = 0; c < dh; c++) att[i * dim + n * dh + c] = att[i * dim + n * dh + c]! + p * v[j * dim + n * dh + c]!;
        }
      }
    }
    const o = linearRows(att, L, dim, w(weights, `${b}.attn.o.weight`), dim);
    x = x.map((xv, t) => xv + o[t]!);
    const h2 = rmsNormRows(x, L, dim, w(weights, `${b}.norm2.weight`), eps);
    const gate = linearRows(h2, L, dim, w(weights, `${b}.ffn.gate.0.weight`), ffnDim);
    const fc1 = linearRows(h2, L, dim, w(weights, `${b}.ffn.fc1.weight`), ffnDim);
    const inner = gate.map((gv, t) => geluTanh(gv) * fc1[t]!);
    const f = linearRows(inner, L, ffnDim, w(weights, `${b}.ffn.fc2.weight`), dim);
    x = x.map((xv, t) => xv + f[t]!);
  }
  return rmsNormRows(x, L, dim, w(weights, 'norm.weight'), eps);
}

/** ‖a − b‖₂ / ‖b‖₂ over the first `n` values (all when omitted). */
export function relError(a: ArrayLike<number>, b: ArrayLike<number>, n = b.length): number {
  let num = 0;
  let den = 0;
  for (let i = 0; i < n; i++) {
    num += (a[i]! - b[i]!) ** 2;
    den += b[i]! ** 2;
  }
  return Math.sqrt(num / den);
}
