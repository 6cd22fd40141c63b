// The invisible layer's detector. Frames arrive as grey (luma) planes, ideally already resized to
// CANONICAL×CANONICAL by the decoder (ffmpeg's area scaler), any size otherwise. Per frame it takes
// the chip residuals (layout.ts), clips outliers (edges of the face, the visible label) so that no
// few chips dominate, and adds c_j·r_j into the soft value of chip j's coded bit. Soft values are
// summed over all frames; then Viterbi decodes the 96-bit message and the keyed check decides.
//
// Decision rule (docs/WATERMARK.md has the argument): "found" only if
//   1. the decoded 32 check bits equal HMAC-SHA256(key, decoded 64-bit payload)[0..32), and
//   2. the decoded codeword explains the soft values: confidence ρ = Σ ĉ_k·S_k / Σ |S_k| ≥ MIN_CONFIDENCE.
// Rule 1 alone bounds the false-positive rate of any unmarked video by 2^-32 ≈ 2.3e-10; rule 2 only
// removes more candidates.
import { axisBump, CANONICAL, chipMeans, chipResiduals, CHIPS, layout } from './layout.js';
import { convEncode, viterbiDecode } from './conv-code.js';
import { CODED_BITS, codedBits, MESSAGE_BITS, payloadHex, readMessage } from './message.js';

/** Rule 2's threshold. Unmarked videos decode to ρ ≈ 0.3–0.45; marked ones to ρ > 0.8. */
export const MIN_CONFIDENCE = 0.6;
/** Chip residuals beyond this many robust standard deviations are clipped. */
const CLIP_SIGMAS = 2.5;

export interface Detection {
  found: boolean;
  /** The payload (16 hex digits) when found. */
  payload: string | null;
  /** ρ ∈ [-1, 1]: the share of the soft watermark signal that agrees with the decoded codeword. */
  confidence: number;
  /** Whether the decoded check bits matched (rule 1). */
  checkMatched: boolean;
  /** Fraction of coded bits whose soft value agrees with the decoded codeword. */
  codedBitAgreement: number;
  frames: number;
}

/** Area-average resize of a grey plane to CANONICAL×CANONICAL (used when the decoder did not). */
export function toCanonical(gray: Uint8Array | Float32Array, w: number, h: number): Float32Array {
  if (w === CANONICAL && h === CANONICAL) return Float32Array.from(gray);
  const out = new Float32Array(CANONICAL * CANONICAL);
  const wsum = new Float32Array(CANONICAL * CANONICAL);
  // Each source pixel spreads over the canonical pixels its footprint overlaps (exact area weights).
  const fx = CANONICAL / w;
  const fy = CANONICAL / h;
  const spans = (i: number, f: number): [number, number][] => {
    const a = i * f;
    const b = (i + 1) * f;
    const res: [number, number][] = [];
    for (let c = Math.floor(a); c < Math.min(CANONICAL, Math.ceil(b)); c++) res.push([c, Math.min(b, c + 1) - Math.max(a, c)]);
    return res;
  };
  const xs = Array.from({ length: w }, (_, x) => spans(x, fx));
  for (let y = 0; y < h; y++) {
    for (const [cy, wy] of spans(y, fy)) {
      for (let x = 0; x < w; x++) {
        const v = gray[y * w + x]!;
        for (const [cx, wx] of xs[x]!) {
          out[cy * CANONICAL + cx] += wx * wy * v;
          wsum[cy * CANONICAL + cx] += wx * wy;
        }
      }
    }
  }
  for (let i = 0; i < out.length; i++) out[i] = out[i]! / wsum[i]!;
  return out;
}

export class WatermarkDetector {
  private readonly soft = new Float64Array(CODED_BITS);
  private readonly res = new Float64Array(CHIPS);
  private readonly axis = axisBump(CANONICAL);
  frames = 0;

  /** Adds one grey frame (any size; CANONICAL×CANONICAL avoids a resize). */
  addFrame(gray: Uint8Array | Float32Array, width: number, height: number): void {
    if (gray.length !== width * height) throw new RangeError(`grey frame has ${gray.length} values, expected ${width}×${height}`);
    const plane = toCanonical(gray, width, height);
    const r = chipResiduals(chipMeans(plane, CANONICAL, CANONICAL, this.axis, this.axis), this.res);
    // Robust scale: median |r| (a frame with strong edges must not drown the rest).
    const abs = Float64Array.from(r, Math.abs).sort();
    const sigma = 1.4826 * abs[CHIPS >> 1]!;
    const lim = Math.max(CLIP_SIGMAS * sigma, 1e-6);
    for (let j = 0; j < CHIPS; j++) {
      const v = Math.max(-lim, Math.min(lim, r[j]!));
      this.soft[layout.bit[j]!] += layout.sign[j]! * v;
    }
    this.frames++;
  }

  /** Summed soft values per coded bit (positive = bit 1). */
  softValues(): Float64Array {
    return Float64Array.from(this.soft);
  }

  result(): Detection {
    const soft = this.soft;
    const bits = viterbiDecode(soft, MESSAGE_BITS);
    const { payload, valid } = readMessage(bits);
    const code = convEncode(bits);
    let agree = 0;
    let total = 0;
    let same = 0;
    for (let k = 0; k < CODED_BITS; k++) {
      const c = code[k] ? 1 : -1;
      agree += c * soft[k]!;
      total += Math.abs(soft[k]!);
      if (c * soft[k]! > 0) same++;
    }
    const confidence = total > 0 ? agree / total : 0;
    const found = valid && confidence >= MIN_CONFIDENCE;
    return { found, payload: found ? payloadHex(payload) : null, confidence, checkMatched: valid, codedBitAgreement: same / CODED_BITS, frames: this.frames };
  }
}

/** Fraction of coded bits whose soft sign matches what `payload` embeds (tests and reports). */
export function rawBitAccuracy(soft: Float64Array, payload: bigint): number {
  const c = codedBits(payload);
  let ok = 0;
  for (let k = 0; k < CODED_BITS; k++) if ((soft[k]! > 0 ? 1 : 0) === c[k]) ok++;
  return ok / CODED_BITS;
}
