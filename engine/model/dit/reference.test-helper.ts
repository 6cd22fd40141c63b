// An independent plain-JS float64 implementation of the Wan2.2 DiT forward, written straight from
// wan2.2-ti2v-5b.md §1 (not from the graph code), for the tests. It follows Wan's own structure:
// PER-TOKEN timesteps [B, L] (every token embeds its own t), Conv3d patch embedding, complex-pair
// RoPE with the 44/42/42-style split, explicit per-head softmax attention, einsum unpatchify.
import type { DitConfig } from '../config.js';

/** Weight values by official name (row-major, PyTorch layouts). */
export type RefWeights = ReadonlyMap<string, ArrayLike<number>>;

export interface RefInputs {
  batch: number;
  /** Latent frames F, height H, width W (before patching). */
  frames: number;
  height: number;
  width: number;
  latents: ArrayLike<number>; // [B, inDim, F, H, W]
  /** Per-token timesteps [B, L], token = f·(h·w) + y·w + x. */
  tokenTimesteps: ArrayLike<number>;
  context: ArrayLike<number>; // [B, textLen, textDim]
  /** Called in each block at `injectAt` (default after the self-attention residual) with that batch item's hidden state [L, dim]. */
  inject?: (block: number, batchIndex: number, x: Float64Array) => void;
  injectAt?: 'after_self_attn' | 'after_cross_attn' | 'after_ffn';
}

function W(w: RefWeights, name: string): ArrayLike<number> {
  const e = w.get(name);
  if (!e) throw new Error(`reference: missing weight ${name}`);
  return e;
}

/** rows × in → rows × out with a PyTorch [out, in] weight. */
function linear(x: Float64Array, rows: number, inF: number, w: RefWeights, name: string): Float64Array {
  const wt = W(w, `${name}.weight`);
  const b = W(w, `${name}.bias`);
  const outF = b.length;
  const y = new Float64Array(rows * outF);
  for (let r = 0; r < rows; r++) {
    for (let o = 0; o < outF; o++) {
      let s = b[o]!;
      for (let i = 0; i < inF; i++) s += x[r * inF + i]! * wt[o * inF + i]!;
      y[r * outF + o] = s;
    }
  }
  return y;
}

const silu = (v: number): number => v / (1 + Math.exp(-v));
const geluTanh = (v: number): number => 0.5 * v * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (v + 0.044715 * v * v * v)));
const mapArr = (x: Float64Array, f: (v: number) => number): Float64Array => x.map(f);

function layerNormRows(x: Float64Array, rows: number, d: number, eps: number, weight?: ArrayLike<number>, bias?: ArrayLike<number>): Float64Array {
  const y = new Float64Array(x.length);
  for (let r = 0; r < rows; r++) {
    let mean = 0;
    for (let i = 0; i < d; i++) mean += x[r * d + i]!;
    mean /= d;
    let v = 0;
    for (let i = 0; i < d; i++) v += (x[r * d + i]! - mean) ** 2;
    v /= d;
    const inv = 1 / Math.sqrt(v + eps);
    for (let i = 0; i < d; i++) y[r * d + i] = (x[r * d + i]! - mean) * inv * (weight ? weight[i]! : 1) + (bias ? bias[i]! : 0);
  }
  return y;
}

function rmsNormRows(x: Float64Array, rows: number, d: number, eps: number, weight: ArrayLike<number>): Float64Array {
  const y = new Float64Array(x.length);
  for (let r = 0; r < rows; r++) {
    let ms = 0;
    for (let i = 0; i < d; i++) ms += x[r * d + i]! ** 2;
    const inv = 1 / Math.sqrt(ms / d + eps);
    for (let i = 0; i < d; i++) y[r * d + i] = x[r * d + i]! * inv * weight[i]!;
  }
  return y;
}

/** Complex-pair RoPE in place on [L, heads·hd]: pair j of each head = (x[2j], x[2j+1]). */
function rope(x: Float64Array, frames: number, gh: number, gw: number, heads: number, hd: number): void {
  const c = hd / 2;
  const dt = hd - 4 * Math.floor(hd / 6);
  const dhw = 2 * Math.floor(hd / 6);
  // [axis, frequency] of each of the c pairs: dt/2 temporal, then dhw/2 height, then dhw/2 width.
  const pairs: [number, number][] = [];
  for (let j = 0; j < dt / 2; j++) pairs.push([0, Math.pow(10000, (-2 * j) / dt)]);
  for (let j = 0; j < dhw / 2; j++) pairs.push([1, Math.pow(10000, (-2 * j) / dhw)]);
  for (let j = 0; j < dhw / 2; j++) pairs.push([2, Math.pow(10000, (-2 * j) / dhw)]);
  if (pairs.length !== c) throw new Error('reference rope split');
  const dim = heads * hd;
  for (let f = 0; f < frames; f++) {
    for (let yy = 0; yy < gh; yy++) {
      for (let xx = 0; xx < gw; xx++) {
        const tok = f * gh * gw + yy * gw + xx;
        const pos = [f, yy, xx];
        for (let h = 0; h < heads; h++) {
          for (let j = 0; j < c; j++) {
            const [axis, freq] = pairs[j]!;
            const th = pos[axis]! * freq;
            const i = tok * dim + h * hd + 2 * j;
            const a = x[i]!;
            const b = x[i + 1]!;
            x[i] = a * Math.cos(th) - b * Math.sin(th);
            x[i + 1] = a * Math.sin(th) + b * Math.cos(th);
          }
        }
      }
    }
  }
}

/** softmax(q kᵀ/√hd) v per head; q [Lq, dim], k/v [Lk, dim]. */
function mha(q: Float64Array, k: Float64Array, v: Float64Array, lq: number, lk: number, heads: number, hd: number): Float64Array {
  const dim = heads * hd;
  const out = new Float64Array(lq * dim);
  const s = new Float64Array(lk);
  for (let h = 0; h < heads; h++) {
    for (let i = 0; i < lq; i++) {
      let m = -Infinity;
      for (let j = 0; j < lk; j++) {
        let dot = 0;
        for (let d = 0; d < hd; d++) dot += q[i * dim + h * hd + d]! * k[j * dim + h * hd + d]!;
        s[j] = dot / Math.sqrt(hd);
        m = Math.max(m, s[j]!);
      }
      let z = 0;
      for (let j = 0; j < lk; j++) z += (s[j] = Math.exp(s[j]! - m));
      for (let d = 0; d < hd; d++) {
        let acc = 0;
        for (let j = 0; j < lk; j++) acc += s[j]! * v[j * dim + h * hd + d]!;
        out[i * dim + h * hd + d] = acc / z;
      }
    }
  }
  return out;
}

/** The velocity [B, outDim, F, H, W] as float64. */
export function ditReference(cfg: DitConfig, w: RefWeights, inp: RefInputs): Float64Array {
  const [pt, ph, pw] = cfg.patch;
  const { batch: B, frames: F, height: H, width: Wd } = inp;
  const gf = F / pt;
  const gh = H / ph;
  const gw = Wd / pw;
  const L = gf * gh * gw;
  const { dim, heads, eps } = cfg;
  const hd = dim / heads;
  const C = cfg.inDim;
  const out = new Float64Array(B * cfg.outDim * F * H * Wd);

  for (let b = 0; b < B; b++) {
    // Patch embedding: a Conv3d with kernel = stride = patch.
    const pwt = W(w, 'patch_embedding.weight');
    const pb = W(w, 'patch_embedding.bias');
    let x = new Float64Array(L * dim);
    for (let f = 0; f < gf; f++) for (let yy = 0; yy < gh; yy++) for (let xx = 0; xx < gw; xx++) {
      const tok = f * gh * gw + yy * gw + xx;
      for (let o = 0; o < dim; o++) {
        let s = pb[o]!;
        for (let c = 0; c < C; c++) for (let kt = 0; kt < pt; kt++) for (let kh = 0; kh < ph; kh++) for (let kw = 0; kw < pw; kw++) {
          const lat = inp.latents[(((b * C + c) * F + f * pt + kt) * H + yy * ph + kh) * Wd + xx * pw + kw]!;
          s += lat * pwt[(((o * C + c) * pt + kt) * ph + kh) * pw + kw]!;
        }
        x[tok * dim + o] = s;
      }
    }

    // Per-token time embedding (cos first, ω_k = 10000^(−k/half), raw t).
    const half = cfg.freqDim / 2;
    const sinus = new Float64Array(L * cfg.freqDim);
    for (let t = 0; t < L; t++) {
      const tv = inp.tokenTimesteps[b * L + t]!;
      for (let k = 0; k < half; k++) {
        const a = tv * Math.pow(10000, -k / half);
        sinus[t * cfg.freqDim + k] = Math.cos(a);
        sinus[t * cfg.freqDim + half + k] = Math.sin(a);
      }
    }
    const e = linear(mapArr(linear(sinus, L, cfg.freqDim, w, 'time_embedding.0'), silu), L, dim, w, 'time_embedding.2');
    const e0 = linear(mapArr(e, silu), L, dim, w, 'time_projection.1'); // [L, 6·dim]

    // Text embedding over all textLen rows.
    const ctxIn = Float64Array.from({ length: cfg.textLen * cfg.textDim }, (_, i) => inp.context[b * cfg.textLen * cfg.textDim + i]!);
    const ctx = linear(mapArr(linear(ctxIn, cfg.textLen, cfg.textDim, w, 'text_embedding.0'), geluTanh), cfg.textLen, dim, w, 'text_embedding.2');

    for (let i = 0; i < cfg.layers; i++) {
      const p = `blocks.${i}`;
      const mod = W(w, `${p}.modulation`); // [1, 6, dim]
      const m = (k: number, t: number, d: number): number => mod[k * dim + d]! + e0[t * 6 * dim + k * dim + d]!;
      // Self-attention on LN(x)·(1 + scale1) + shift1, gated by gate1.
      const n1 = layerNormRows(x, L, dim, eps);
      for (let t = 0; t < L; t++) for (let d = 0; d < dim; d++) n1[t * dim + d] = n1[t * dim + d]! * (1 + m(1, t, d)) + m(0, t, d);
      const q = rmsNormRows(linear(n1, L, dim, w, `${p}.self_attn.q`), L, dim, eps, W(w, `${p}.self_attn.norm_q.weight`));
      const k = rmsNormRows(linear(n1, L, dim, w, `${p}.self_attn.k`), L, dim, eps, W(w, `${p}.self_attn.norm_k.weight`));
      const v = linear(n1, L, dim, w, `${p}.self_attn.v`);
      rope(q, gf, gh, gw, heads, hd);
      rope(k, gf, gh, gw, heads, hd);
      const sa = linear(mha(q, k, v, L, L, heads, hd), L, dim, w, `${p}.self_attn.o`);
      x = x.map((xv, j) => xv + sa[j]! * m(2, Math.floor(j / dim), j % dim));
      if ((inp.injectAt ?? 'after_self_attn') === 'after_self_attn') inp.inject?.(i, b, x);
      // Cross-attention on norm3(x) (affine LN), no gate, no RoPE.
      const n3 = layerNormRows(x, L, dim, eps, W(w, `${p}.norm3.weight`), W(w, `${p}.norm3.bias`));
      const cq = rmsNormRows(linear(n3, L, dim, w, `${p}.cross_attn.q`), L, dim, eps, W(w, `${p}.cross_attn.norm_q.weight`));
      const ck = rmsNormRows(linear(ctx, cfg.textLen, dim, w, `${p}.cross_attn.k`), cfg.textLen, dim, eps, W(w, `${p}.cross_attn.norm_k.weight`));
      const cv = linear(ctx, cfg.textLen, dim, w, `${p}.cross_attn.v`);
      const ca = linear(mha(cq, ck, cv, L, cfg.textLen, heads, hd), L, dim, w, `${p}.cross_attn.o`);
      x = x.map((xv, j) => xv + ca[j]!);
      if (inp.injectAt === 'after_cross_attn') inp.inject?.(i, b, x);
      // FFN on LN(x)·(1 + scale2) + shift2, gated by gate2.
      const n2 = layerNormRows(x, L, dim, eps);
      for (let t = 0; t < L; t++) for (let d = 0; d < dim; d++) n2[t * dim + d] = n2[t * dim + d]! * (1 + m(4, t, d)) + m(3, t, d);
      const ff = linear(mapArr(linear(n2, L, dim, w, `${p}.ffn.0`), geluTanh), L, cfg.ffnDim, w, `${p}.ffn.2`);
      x = x.map((xv, j) => xv + ff[j]! * m(5, Math.floor(j / dim), j % dim));
      if (inp.injectAt === 'after_ffn') inp.inject?.(i, b, x);
    }

    // Head: (shift, scale) = head.modulation + e (not e0).
    const hm = W(w, 'head.modulation');
    const nh = layerNormRows(x, L, dim, eps);
    for (let t = 0; t < L; t++) for (let d = 0; d < dim; d++) {
      const shift = hm[d]! + e[t * dim + d]!;
      const scale = hm[dim + d]! + e[t * dim + d]!;
      nh[t * dim + d] = nh[t * dim + d]! * (1 + scale) + shift;
    }
    const P = pt * ph * pw * cfg.outDim;
    const tok = linear(nh, L, dim, w, 'head.head');
    // Unpatchify ('fhwpqrc->cfphqwr'): token value ((p·ph + q)·pw + r)·C + c.
    const Co = cfg.outDim;
    for (let f = 0; f < gf; f++) for (let yy = 0; yy < gh; yy++) for (let xx = 0; xx < gw; xx++) {
      const t = f * gh * gw + yy * gw + xx;
      for (let pp = 0; pp < pt; pp++) for (let q = 0; q < ph; q++) for (let r = 0; r < pw; r++) for (let c = 0; c < Co; c++) {
        out[(((b * Co + c) * F + f * pt + pp) * H + yy * ph + q) * Wd + xx * pw + r] = tok[t * P + ((pp * ph + q) * pw + r) * Co + c]!;
      }
    }
  }
  return out;
}

/** max |a − b| / max |b|: the relative error of a whole tensor. */
export function relError(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`length ${a.length} vs ${b.length}`);
  let num = 0;
  let den = 0;
  for (let i = 0; i < a.length; i++) {
    num = Math.max(num, Math.abs(a[i]! - b[i]!));
    den = Math.max(den, Math.abs(b[i]!));
  }
  return num / den;
}
