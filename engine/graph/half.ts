// 16-bit float conversions for weights. Node 20 has no Float16Array and onnxruntime-node has no bf16
// (DESIGN 1), so checkpoints stored in bf16 or fp32 are converted here: to fp32 for the CPU backend and
// to fp16 (raw Uint16 bits, the form ORT takes) for GPU backends. All rounding is round-to-nearest-even,
// the same as PyTorch's `.half()` / `.bfloat16()`, so a converted tensor is bit-identical to torch's.
//
// fp16 has a much smaller range than bf16/fp32 (max 65504). A finite value that would round to
// infinity is clamped to ±65504 instead, because a single inf in a weight turns every activation it
// touches into inf/NaN; the conversions count such values (`overflows`) so the caller can warn.
// Non-zero values too small for fp16 subnormals become ±0 and are counted as `underflows`.
// Infinities and NaNs in the source are kept as they are (they are not overflows).

export interface HalfConversion {
  /** fp16 bit patterns. */
  data: Uint16Array;
  /** Finite values beyond the fp16 range that were clamped to ±65504. */
  overflows: number;
  /** Non-zero values that became ±0 because they are below half the smallest fp16 subnormal. */
  underflows: number;
}

export const F16_MAX = 65504;

const f32Scratch = new Float32Array(1);
const u32Scratch = new Uint32Array(f32Scratch.buffer);

// Flags returned above the 16 result bits by halfFromF32Bits.
const OVERFLOW_FLAG = 0x10000;
const UNDERFLOW_FLAG = 0x20000;

/**
 * fp32 bit pattern -> fp16 bit pattern (round to nearest even), with OVERFLOW_FLAG / UNDERFLOW_FLAG
 * set above bit 15 when the value was clamped or flushed. Callers mask with 0xffff.
 */
function halfFromF32Bits(bits: number): number {
  const sign = (bits >>> 16) & 0x8000;
  const abs = bits & 0x7fffffff;
  if (abs >= 0x7f800000) {
    // Inf stays inf; NaN stays NaN (quiet bit set, top payload bits kept).
    return abs === 0x7f800000 ? sign | 0x7c00 : sign | 0x7e00 | ((abs >>> 13) & 0x3ff);
  }
  // 0x477ff000 is 65520, the midpoint between 65504 and 65536 (= inf); ties go to even, i.e. to inf.
  if (abs >= 0x477ff000) return sign | 0x7bff | OVERFLOW_FLAG;
  if (abs < 0x38800000) {
    // Below the smallest fp16 normal (2^-14): the result is a subnormal m·2^-24. Scaling by 2^24 is
    // exact in a double, so rounding that product to an integer (ties to even) gives m directly;
    // m may round up to 1024, which is exactly the bit pattern of the smallest normal.
    u32Scratch[0] = abs;
    const scaled = f32Scratch[0]! * 16777216;
    let m = Math.round(scaled);
    if (m - scaled === 0.5 && (m & 1) === 1) m -= 1;
    if (m === 0 && abs !== 0) return sign | UNDERFLOW_FLAG;
    return sign | m;
  }
  // Normal range: rebias the exponent (127 -> 15) and drop 13 mantissa bits with RNE. A carry out of
  // the mantissa correctly bumps the exponent; the overflow check above keeps it below inf.
  let h = (abs - 0x38000000) >>> 13;
  const rest = abs & 0x1fff;
  if (rest > 0x1000 || (rest === 0x1000 && (h & 1) === 1)) h += 1;
  return sign | h;
}

/** fp32 number -> fp16 bits (RNE; finite overflow clamps to ±65504). */
export function f32ToF16Bits(x: number): number {
  f32Scratch[0] = x;
  return halfFromF32Bits(u32Scratch[0]!) & 0xffff;
}

/** fp16 bits -> number. */
export function f16BitsToF32(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const e = (h >>> 10) & 0x1f;
  const m = h & 0x3ff;
  if (e === 0) return sign * m * 2 ** -24;
  if (e === 31) return m === 0 ? sign * Infinity : NaN;
  return sign * (1 + m / 1024) * 2 ** (e - 15);
}

/** bf16 bits -> number (bf16 is the top half of an fp32). */
export function bf16BitsToF32(h: number): number {
  u32Scratch[0] = (h & 0xffff) << 16;
  return f32Scratch[0]!;
}

/** fp32 number -> bf16 bits, round to nearest even (as torch does); NaN stays a quiet NaN. */
export function f32ToBf16Bits(x: number): number {
  f32Scratch[0] = x;
  const bits = u32Scratch[0]!;
  if ((bits & 0x7fffffff) > 0x7f800000) return ((bits >>> 16) | 0x40) & 0xffff;
  return ((bits + 0x7fff + ((bits >>> 16) & 1)) >>> 16) & 0xffff;
}

// fp16 -> fp32 by table: 65536 entries of fp32 bits (256 KiB), built on first use. A table lookup is
// several times faster than decoding each value, which matters for multi-GB checkpoints.
let f16Table: Uint32Array | null = null;
function f16ToF32Table(): Uint32Array {
  if (f16Table) return f16Table;
  const t = new Uint32Array(65536);
  const f = new Float32Array(t.buffer);
  for (let h = 0; h < 65536; h++) {
    const e = (h >>> 10) & 0x1f;
    const m = h & 0x3ff;
    // NaN keeps its payload (shifted into place) rather than becoming the canonical NaN.
    if (e === 31 && m !== 0) t[h] = ((h & 0x8000) << 16) | 0x7f800000 | (m << 13);
    else f[h] = f16BitsToF32(h);
  }
  f16Table = t;
  return t;
}

function checkOut<T extends { length: number }>(out: T | undefined, n: number, make: (n: number) => T): T {
  if (out === undefined) return make(n);
  if (out.length !== n) throw new RangeError(`output array has ${out.length} elements, expected ${n}`);
  return out;
}

/** fp16 bits -> fp32 (exact). */
export function f16ToF32(src: Uint16Array, out?: Float32Array): Float32Array {
  const dst = checkOut(out, src.length, (n) => new Float32Array(n));
  const table = f16ToF32Table();
  const bits = new Uint32Array(dst.buffer, dst.byteOffset, dst.length);
  for (let i = 0; i < src.length; i++) bits[i] = table[src[i]!]!;
  return dst;
}

/** bf16 bits -> fp32 (exact: a shift). */
export function bf16ToF32(src: Uint16Array, out?: Float32Array): Float32Array {
  const dst = checkOut(out, src.length, (n) => new Float32Array(n));
  const bits = new Uint32Array(dst.buffer, dst.byteOffset, dst.length);
  for (let i = 0; i < src.length; i++) bits[i] = src[i]! << 16;
  return dst;
}

/** fp32 -> fp16 bits (RNE), clamping finite overflow to ±65504 and counting it. */
export function f32ToF16(src: Float32Array, out?: Uint16Array): HalfConversion {
  const dst = checkOut(out, src.length, (n) => new Uint16Array(n));
  const bits = new Uint32Array(src.buffer, src.byteOffset, src.length);
  let overflows = 0;
  let underflows = 0;
  for (let i = 0; i < bits.length; i++) {
    const r = halfFromF32Bits(bits[i]!);
    dst[i] = r & 0xffff;
    if (r > 0xffff) {
      if (r & OVERFLOW_FLAG) overflows++;
      else underflows++;
    }
  }
  return { data: dst, overflows, underflows };
}

/**
 * bf16 bits -> fp16 bits. Every bf16 value inside the fp16 normal range is exact in fp16 (bf16 has 7
 * mantissa bits, fp16 has 10); larger ones are clamped and counted, tiny ones rounded to subnormals.
 */
export function bf16ToF16(src: Uint16Array, out?: Uint16Array): HalfConversion {
  const dst = checkOut(out, src.length, (n) => new Uint16Array(n));
  const { bits, flags } = bf16ToF16Tables();
  let overflows = 0;
  let underflows = 0;
  for (let i = 0; i < src.length; i++) {
    const b = src[i]!;
    dst[i] = bits[b]!;
    const f = flags[b]!;
    if (f !== 0) {
      if (f === 1) overflows++;
      else underflows++;
    }
  }
  return { data: dst, overflows, underflows };
}

// bf16 has only 65536 values, so bf16 -> fp16 is a table lookup (about 3x faster than converting each
// value; the 5B DiT has 5e9 of them). flags: 1 = clamped overflow, 2 = flushed underflow.
let bf16Tables: { bits: Uint16Array; flags: Uint8Array } | null = null;
function bf16ToF16Tables(): { bits: Uint16Array; flags: Uint8Array } {
  if (bf16Tables) return bf16Tables;
  const bits = new Uint16Array(65536);
  const flags = new Uint8Array(65536);
  for (let b = 0; b < 65536; b++) {
    const r = halfFromF32Bits(b << 16);
    bits[b] = r & 0xffff;
    flags[b] = r & OVERFLOW_FLAG ? 1 : r & UNDERFLOW_FLAG ? 2 : 0;
  }
  bf16Tables = { bits, flags };
  return bf16Tables;
}

/** fp32 -> bf16 bits (RNE). Used when writing bf16 files (e.g. test fixtures, exported adapters). */
export function f32ToBf16(src: Float32Array, out?: Uint16Array): Uint16Array {
  const dst = checkOut(out, src.length, (n) => new Uint16Array(n));
  for (let i = 0; i < src.length; i++) dst[i] = f32ToBf16Bits(src[i]!);
  return dst;
}
