// Element types that weight files (safetensors, .pth) may hold, named as safetensors names them, and
// the helpers that turn raw little-endian bytes into typed arrays or into the float types the engine
// feeds onnxruntime (fp32 on CPU, fp16 bits on GPU; DESIGN 1).
import type { DType } from '../../graph/dtype.js';
import { bf16ToF16, bf16ToF32, f16ToF32, f32ToF16 } from '../../graph/half.js';
import type { HalfConversion } from '../../graph/half.js';

export type WeightDtype = 'F64' | 'F32' | 'F16' | 'BF16' | 'I64' | 'I32' | 'I16' | 'I8' | 'U8' | 'BOOL';

export const DTYPE_BYTES: Readonly<Record<WeightDtype, number>> = {
  F64: 8,
  F32: 4,
  F16: 2,
  BF16: 2,
  I64: 8,
  I32: 4,
  I16: 2,
  I8: 1,
  U8: 1,
  BOOL: 1,
};

export const WEIGHT_DTYPES: readonly WeightDtype[] = Object.keys(DTYPE_BYTES) as WeightDtype[];

export function isWeightDtype(s: unknown): s is WeightDtype {
  return typeof s === 'string' && Object.prototype.hasOwnProperty.call(DTYPE_BYTES, s);
}

/** The graph dtype a weight dtype is fed as without conversion, or null (BF16 and I16 have none). */
export function graphDtypeOf(d: WeightDtype): DType | null {
  switch (d) {
    case 'F64':
      return 'float64';
    case 'F32':
      return 'float32';
    case 'F16':
      return 'float16';
    case 'I64':
      return 'int64';
    case 'I32':
      return 'int32';
    case 'I8':
      return 'int8';
    case 'U8':
      return 'uint8';
    case 'BOOL':
      return 'bool';
    default:
      return null;
  }
}

/** Product of a shape; throws when a dimension is invalid or the count is not a safe integer. */
export function numelOf(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) {
    if (!Number.isSafeInteger(d) || d < 0) throw new RangeError(`invalid dimension ${d} in shape [${shape.join(',')}]`);
    n *= d;
  }
  if (!Number.isSafeInteger(n)) throw new RangeError(`shape [${shape.join(',')}] has too many elements`);
  return n;
}

export type WeightArray = Float64Array | Float32Array | Uint16Array | BigInt64Array | Int32Array | Int16Array | Int8Array | Uint8Array;

/**
 * View little-endian bytes as the typed array for `dtype` (F16/BF16 as raw Uint16 bits, BOOL as
 * Uint8). Shares memory when the bytes are suitably aligned, copies otherwise.
 */
export function viewAs(dtype: WeightDtype, bytes: Uint8Array): WeightArray {
  const size = DTYPE_BYTES[dtype];
  if (bytes.byteLength % size !== 0) {
    throw new RangeError(`${bytes.byteLength} bytes is not a whole number of ${dtype} elements (${size} bytes each)`);
  }
  const src = bytes.byteOffset % size === 0 ? bytes : bytes.slice();
  const n = src.byteLength / size;
  switch (dtype) {
    case 'F64':
      return new Float64Array(src.buffer, src.byteOffset, n);
    case 'F32':
      return new Float32Array(src.buffer, src.byteOffset, n);
    case 'F16':
    case 'BF16':
      return new Uint16Array(src.buffer, src.byteOffset, n);
    case 'I64':
      return new BigInt64Array(src.buffer, src.byteOffset, n);
    case 'I32':
      return new Int32Array(src.buffer, src.byteOffset, n);
    case 'I16':
      return new Int16Array(src.buffer, src.byteOffset, n);
    case 'I8':
      return new Int8Array(src.buffer, src.byteOffset, n);
    case 'U8':
    case 'BOOL':
      return new Uint8Array(src.buffer, src.byteOffset, n);
  }
}

/** Raw bytes of a typed array (no copy). */
export function bytesOf(a: ArrayBufferView): Uint8Array {
  return new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
}

/**
 * Float tensor bytes -> fp32 (exact for F16/BF16; F64 is rounded to the nearest fp32). When no
 * conversion is needed the result may share memory with `bytes`.
 */
export function toF32(dtype: WeightDtype, bytes: Uint8Array): Float32Array {
  switch (dtype) {
    case 'F32':
      return viewAs('F32', bytes) as Float32Array;
    case 'F16':
      return f16ToF32(viewAs('F16', bytes) as Uint16Array);
    case 'BF16':
      return bf16ToF32(viewAs('BF16', bytes) as Uint16Array);
    case 'F64':
      return Float32Array.from(viewAs('F64', bytes) as Float64Array);
    default:
      throw new TypeError(`cannot convert ${dtype} weights to float32: only F64, F32, F16 and BF16 are floats`);
  }
}

/** Float tensor bytes -> fp16 bits, with overflow/underflow counts (see half.ts); may share memory. */
export function toF16(dtype: WeightDtype, bytes: Uint8Array): HalfConversion {
  switch (dtype) {
    case 'F16':
      return { data: viewAs('F16', bytes) as Uint16Array, overflows: 0, underflows: 0 };
    case 'BF16':
      return bf16ToF16(viewAs('BF16', bytes) as Uint16Array);
    case 'F32':
      return f32ToF16(viewAs('F32', bytes) as Float32Array);
    case 'F64':
      // Two roundings (f64 -> f32 -> f16) can differ from one direct rounding only in rare ties; fine
      // for weights, which are never stored in f64 by the checkpoints this engine reads.
      return f32ToF16(Float32Array.from(viewAs('F64', bytes) as Float64Array));
    default:
      throw new TypeError(`cannot convert ${dtype} weights to float16: only F64, F32, F16 and BF16 are floats`);
  }
}

/**
 * Runs a dtype conversion, turning the converters' TypeError (a tensor of the wrong kind) into the
 * reader's own error, which names the file and the tensor.
 */
export function convertOrExplain<T>(convert: () => T, explain: (message: string) => Error): T {
  try {
    return convert();
  } catch (e) {
    if (e instanceof TypeError) throw explain(e.message);
    throw e;
  }
}
