// Streaming safetensors reader and writer.
//
// Format (https://github.com/huggingface/safetensors): an 8-byte little-endian header length N, N bytes
// of UTF-8 JSON mapping each tensor name to {dtype, shape, data_offsets: [begin, end]} (offsets relative
// to the data section that starts at 8 + N) plus an optional "__metadata__" string map, then the data.
//
// Checkpoints are many GB, so the reader never loads a whole file: it reads the header with positioned
// reads, validates it completely up front (so a bad download fails with one clear sentence before any
// work starts), and then reads single tensors on demand. Each tensor's absolute offset and length in the
// file are exposed so an ONNX model can reference the bytes in place as external data when the dtype
// already matches (DESIGN 2).
//
// Reading is deliberately more lenient than the reference Rust implementation in one way: gaps between
// tensors and trailing bytes after the last tensor are accepted (some writers align tensors); overlapping
// tensors, out-of-range offsets and size mismatches are errors.
import { open, rename, unlink } from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { endianness } from 'node:os';
import path from 'node:path';
import { DTYPE_BYTES, WEIGHT_DTYPES, isWeightDtype, numelOf, toF16, toF32, viewAs, convertOrExplain } from './dtypes.js';
import type { WeightArray, WeightDtype } from './dtypes.js';
import type { HalfConversion } from '../../graph/half.js';

/** Largest header accepted (the Rust implementation uses the same bound). */
export const MAX_HEADER_BYTES = 100 * 1024 * 1024;

if (endianness() !== 'LE') {
  // Typed-array views below assume the host byte order is the file's (little-endian).
  throw new Error('safetensors: big-endian hosts are not supported');
}

export class SafetensorsError extends Error {
  readonly file: string;
  constructor(file: string, detail: string) {
    super(`${file}: ${detail}`);
    this.name = 'SafetensorsError';
    this.file = file;
  }
}

export interface SafetensorsTensorInfo {
  readonly name: string;
  readonly dtype: WeightDtype;
  readonly shape: readonly number[];
  readonly numel: number;
  /** [begin, end) relative to the start of the data section, exactly as the header states. */
  readonly dataOffsets: readonly [number, number];
  /** Absolute byte offset of the tensor's first byte in the file (for ONNX external data). */
  readonly fileOffset: number;
  readonly byteLength: number;
}

export interface SafetensorsHeader {
  /** Tensors in data order (by begin offset; JSON.parse does not keep key order for names like "0"). */
  readonly tensors: readonly SafetensorsTensorInfo[];
  readonly metadata: Readonly<Record<string, string>>;
  /** Bytes of tensor data the header describes (the largest `end` offset). */
  readonly dataBytes: number;
}

const fmtShape = (s: readonly unknown[]): string => `[${s.join(',')}]`;

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function isNonNegInt(v: unknown): v is number {
  return typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
}

/**
 * Validates a header's JSON text against the file it came from. `file` is only used in messages;
 * `fileSize` is the size of the whole file. Throws SafetensorsError with a specific sentence.
 */
export function parseSafetensorsHeader(file: string, headerBytes: Uint8Array, fileSize: number): SafetensorsHeader {
  const fail = (detail: string): never => {
    throw new SafetensorsError(file, detail);
  };
  let text = '';
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(headerBytes);
  } catch {
    fail('the safetensors header is not valid UTF-8 (not a safetensors file?)');
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    fail(`the safetensors header is not valid JSON (${(e as Error).message}); not a safetensors file, or a damaged one`);
  }
  if (!isPlainObject(json)) fail('the safetensors header must be a JSON object mapping tensor names to descriptions');
  const header = json as Record<string, unknown>;

  const dataStart = 8 + headerBytes.byteLength;
  let metadata: Record<string, string> = {};
  const tensors: SafetensorsTensorInfo[] = [];
  for (const [name, desc] of Object.entries(header)) {
    if (name === '__metadata__') {
      if (!isPlainObject(desc)) fail('"__metadata__" must be a JSON object of string values');
      const m = desc as Record<string, unknown>;
      for (const [k, v] of Object.entries(m)) {
        if (typeof v !== 'string') fail(`"__metadata__" must map strings to strings, but key '${k}' holds a ${v === null ? 'null' : typeof v}`);
      }
      metadata = m as Record<string, string>;
      continue;
    }
    if (!isPlainObject(desc)) fail(`tensor '${name}' must be described by an object with dtype, shape and data_offsets`);
    const d = desc as Record<string, unknown>;
    if (!isWeightDtype(d.dtype)) {
      fail(`tensor '${name}' has unknown dtype ${JSON.stringify(d.dtype)} (supported: ${WEIGHT_DTYPES.join(', ')})`);
    }
    const dtype = d.dtype as WeightDtype;
    if (!Array.isArray(d.shape) || !d.shape.every(isNonNegInt)) {
      fail(`tensor '${name}' has an invalid shape ${JSON.stringify(d.shape)} (expected an array of non-negative integers)`);
    }
    const shape = d.shape as number[];
    const offs = d.data_offsets;
    if (!Array.isArray(offs) || offs.length !== 2 || !offs.every(isNonNegInt) || (offs[0] as number) > (offs[1] as number)) {
      fail(`tensor '${name}' has invalid data_offsets ${JSON.stringify(offs)} (expected [begin, end] with 0 <= begin <= end)`);
    }
    const begin = (offs as number[])[0]!;
    const end = (offs as number[])[1]!;
    let numel = 0;
    try {
      numel = numelOf(shape);
    } catch {
      fail(`tensor '${name}' has shape ${fmtShape(shape)}, whose element count is too large`);
    }
    const byteLength = numel * DTYPE_BYTES[dtype];
    if (end - begin !== byteLength) {
      fail(
        `tensor '${name}' (${dtype} ${fmtShape(shape)}) needs ${byteLength} bytes but its data_offsets ` +
          `[${begin}, ${end}] span ${end - begin} bytes`,
      );
    }
    tensors.push({ name, dtype, shape, numel, dataOffsets: [begin, end], fileOffset: dataStart + begin, byteLength });
  }

  const dataBytes = tensors.reduce((m, t) => Math.max(m, t.dataOffsets[1]), 0);
  const expected = dataStart + dataBytes;
  if (expected > fileSize) {
    const last = tensors.find((t) => t.dataOffsets[1] === dataBytes)!;
    fail(
      `truncated file: it is ${fileSize} bytes but its header describes ${expected} bytes ` +
        `(8 + ${headerBytes.byteLength} header + ${dataBytes} data; tensor '${last.name}' ends at byte ${expected}); ` +
        `the download or copy is probably incomplete`,
    );
  }

  // Overlap check: sort non-empty ranges by start and compare each with the furthest-reaching one so far.
  const ranges = tensors.filter((t) => t.byteLength > 0).sort((a, b) => a.dataOffsets[0] - b.dataOffsets[0]);
  let reach: SafetensorsTensorInfo | undefined;
  for (const t of ranges) {
    if (reach && t.dataOffsets[0] < reach.dataOffsets[1]) {
      fail(
        `tensors '${reach.name}' (data bytes [${reach.dataOffsets[0]}, ${reach.dataOffsets[1]})) and ` +
          `'${t.name}' (data bytes [${t.dataOffsets[0]}, ${t.dataOffsets[1]})) overlap`,
      );
    }
    if (!reach || t.dataOffsets[1] > reach.dataOffsets[1]) reach = t;
  }
  tensors.sort((a, b) => a.dataOffsets[0] - b.dataOffsets[0] || a.dataOffsets[1] - b.dataOffsets[1]);
  return { tensors, metadata, dataBytes };
}

/** Reads exactly `length` bytes at `position`, looping over short reads. */
async function readFully(fh: FileHandle, file: string, into: Uint8Array, position: number): Promise<void> {
  let done = 0;
  while (done < into.byteLength) {
    // fs reads are capped at 2 GiB - 1 per call.
    const chunk = Math.min(into.byteLength - done, 0x40000000);
    const { bytesRead } = await fh.read(into, done, chunk, position + done);
    if (bytesRead === 0) {
      throw new SafetensorsError(file, `truncated file: reading ${into.byteLength} bytes at offset ${position} hit the end of the file after ${done} bytes`);
    }
    done += bytesRead;
  }
}

/** An open safetensors file: validated header in memory, tensor data read on demand. */
export class SafetensorsFile {
  readonly path: string;
  readonly size: number;
  /** N, the JSON header length in bytes. */
  readonly headerLength: number;
  /** Absolute offset of the data section (8 + N). */
  readonly dataStart: number;
  readonly metadata: Readonly<Record<string, string>>;
  private readonly fh: FileHandle;
  private readonly byName: Map<string, SafetensorsTensorInfo>;
  private readonly order: readonly SafetensorsTensorInfo[];
  private closed = false;

  private constructor(file: string, fh: FileHandle, size: number, headerLength: number, header: SafetensorsHeader) {
    this.path = file;
    this.fh = fh;
    this.size = size;
    this.headerLength = headerLength;
    this.dataStart = 8 + headerLength;
    this.metadata = header.metadata;
    this.order = header.tensors;
    this.byName = new Map(header.tensors.map((t) => [t.name, t]));
  }

  static async open(file: string): Promise<SafetensorsFile> {
    const fh = await open(file, 'r');
    try {
      const size = (await fh.stat()).size;
      if (size < 8) {
        throw new SafetensorsError(file, `truncated file: it is ${size} bytes, but a safetensors file starts with an 8-byte header length`);
      }
      const lenBuf = new Uint8Array(8);
      await readFully(fh, file, lenBuf, 0);
      const n = new DataView(lenBuf.buffer).getBigUint64(0, true);
      if (n > BigInt(size - 8)) {
        throw new SafetensorsError(
          file,
          `header length ${n} is larger than the file (${size} bytes, so at most ${size - 8} bytes of header); not a safetensors file, or a truncated one`,
        );
      }
      if (n > BigInt(MAX_HEADER_BYTES)) {
        throw new SafetensorsError(file, `header length ${n} exceeds the ${MAX_HEADER_BYTES}-byte limit; not a safetensors file`);
      }
      const headerLength = Number(n);
      const headerBytes = new Uint8Array(headerLength);
      await readFully(fh, file, headerBytes, 8);
      const header = parseSafetensorsHeader(file, headerBytes, size);
      return new SafetensorsFile(file, fh, size, headerLength, header);
    } catch (e) {
      await fh.close();
      throw e;
    }
  }

  /** Tensor names in data order. */
  names(): string[] {
    return this.order.map((t) => t.name);
  }

  /** Every tensor's description, in data order. */
  tensors(): readonly SafetensorsTensorInfo[] {
    return this.order;
  }

  has(name: string): boolean {
    return this.byName.has(name);
  }

  info(name: string): SafetensorsTensorInfo {
    const t = this.byName.get(name);
    if (!t) throw new SafetensorsError(this.path, `no tensor named '${name}' (the file has ${this.order.length} tensors)`);
    return t;
  }

  /**
   * The tensor's raw little-endian bytes. `into`, when given, must be exactly the tensor's size and is
   * filled and returned (lets a caller reuse one buffer while streaming a file).
   */
  async readBytes(name: string, into?: Uint8Array): Promise<Uint8Array> {
    if (this.closed) throw new SafetensorsError(this.path, `cannot read '${name}': the file was closed`);
    const t = this.info(name);
    if (into && into.byteLength !== t.byteLength) {
      throw new RangeError(`buffer for '${name}' is ${into.byteLength} bytes, the tensor is ${t.byteLength}`);
    }
    // A fresh ArrayBuffer is 8-byte aligned, so typed views over it never need a copy.
    const buf = into ?? new Uint8Array(new ArrayBuffer(t.byteLength));
    await readFully(this.fh, this.path, buf, t.fileOffset);
    return buf;
  }

  /** The tensor as its own typed array (F16/BF16 as Uint16 bits, BOOL as Uint8). */
  async read(name: string): Promise<WeightArray> {
    return viewAs(this.info(name).dtype, await this.readBytes(name));
  }

  /** A float tensor converted to fp32. */
  async readF32(name: string): Promise<Float32Array> {
    const dtype = this.info(name).dtype;
    const bytes = await this.readBytes(name);
    return convertOrExplain(() => toF32(dtype, bytes), (m) => new SafetensorsError(this.path, `tensor '${name}': ${m}`));
  }

  /** A float tensor converted to fp16 bits, with overflow/underflow counts. */
  async readF16(name: string): Promise<HalfConversion> {
    const dtype = this.info(name).dtype;
    const bytes = await this.readBytes(name);
    return convertOrExplain(() => toF16(dtype, bytes), (m) => new SafetensorsError(this.path, `tensor '${name}': ${m}`));
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.fh.close();
  }
}

// ------------------------------------------------------------------------------------------------
// Writer

export interface SafetensorsEntry {
  name: string;
  dtype: WeightDtype;
  shape: readonly number[];
  /**
   * The tensor's little-endian bytes, or a function that produces them when the writer reaches this
   * tensor, so a converter only needs one tensor in memory at a time.
   */
  data: ArrayBufferView | (() => ArrayBufferView | Promise<ArrayBufferView>);
}

export interface WriteSafetensorsOptions {
  metadata?: Record<string, string>;
}

/**
 * Writes tensors to `file` atomically: into a temporary file beside it, fsync, then rename over the
 * target, so a crash never leaves a half-written checkpoint under the real name. Tensors are laid out
 * by decreasing element size (stable otherwise), as the Python implementation does, so every tensor
 * starts at a multiple of its element size; the header is space-padded so data starts 8-byte aligned.
 */
export async function writeSafetensors(
  file: string,
  entries: readonly SafetensorsEntry[],
  opts: WriteSafetensorsOptions = {},
): Promise<{ bytes: number; tensors: SafetensorsTensorInfo[] }> {
  const fail = (detail: string): never => {
    throw new SafetensorsError(file, detail);
  };
  const seen = new Set<string>();
  for (const e of entries) {
    if (e.name === '' || e.name === '__metadata__') fail(`cannot write a tensor named '${e.name}'`);
    if (seen.has(e.name)) fail(`tensor '${e.name}' is listed twice`);
    seen.add(e.name);
    if (!isWeightDtype(e.dtype)) fail(`tensor '${e.name}' has unknown dtype ${JSON.stringify(e.dtype)} (supported: ${WEIGHT_DTYPES.join(', ')})`);
    if (!e.shape.every(isNonNegInt)) fail(`tensor '${e.name}' has an invalid shape ${JSON.stringify(e.shape)}`);
  }
  for (const [k, v] of Object.entries(opts.metadata ?? {})) {
    if (typeof v !== 'string') fail(`metadata '${k}' must be a string, got ${typeof v}`);
  }

  const ordered = entries
    .map((e, i) => ({ e, i }))
    .sort((a, b) => DTYPE_BYTES[b.e.dtype] - DTYPE_BYTES[a.e.dtype] || a.i - b.i)
    .map((x) => x.e);

  // Header JSON is assembled by hand so tensor order is exactly the data order (a JS object would
  // move integer-like names such as "0" to the front).
  const parts: string[] = [];
  if (opts.metadata && Object.keys(opts.metadata).length > 0) parts.push(`"__metadata__":${JSON.stringify(opts.metadata)}`);
  const layout: { e: SafetensorsEntry; begin: number; end: number; numel: number }[] = [];
  let offset = 0;
  for (const e of ordered) {
    const numel = numelOf(e.shape);
    const end = offset + numel * DTYPE_BYTES[e.dtype];
    layout.push({ e, begin: offset, end, numel });
    parts.push(`${JSON.stringify(e.name)}:${JSON.stringify({ dtype: e.dtype, shape: e.shape, data_offsets: [offset, end] })}`);
    offset = end;
  }
  const json = new TextEncoder().encode(`{${parts.join(',')}}`);
  const headerLength = Math.ceil(json.byteLength / 8) * 8;
  if (headerLength > MAX_HEADER_BYTES) fail(`header would be ${headerLength} bytes, over the ${MAX_HEADER_BYTES}-byte limit`);
  const head = new Uint8Array(8 + headerLength).fill(0x20);
  new DataView(head.buffer).setBigUint64(0, BigInt(headerLength), true);
  head.set(json, 8);
  const dataStart = 8 + headerLength;

  const tmp = path.join(path.dirname(file), `.${path.basename(file)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  const fh = await open(tmp, 'wx');
  let ok = false;
  try {
    await writeFully(fh, head, 0);
    for (const { e, begin, end } of layout) {
      const view = typeof e.data === 'function' ? await e.data() : e.data;
      if (view.byteLength !== end - begin) {
        fail(`tensor '${e.name}' (${e.dtype} ${fmtShape(e.shape)}) needs ${end - begin} bytes but its data has ${view.byteLength}`);
      }
      await writeFully(fh, new Uint8Array(view.buffer, view.byteOffset, view.byteLength), dataStart + begin);
    }
    await fh.sync();
    ok = true;
  } finally {
    await fh.close();
    if (!ok) await unlink(tmp).catch(() => undefined);
  }
  await rename(tmp, file);
  await syncDir(path.dirname(file));
  const tensors = layout.map(({ e, begin, end, numel }) => ({
    name: e.name,
    dtype: e.dtype,
    shape: [...e.shape],
    numel,
    dataOffsets: [begin, end] as const,
    fileOffset: dataStart + begin,
    byteLength: end - begin,
  }));
  return { bytes: dataStart + offset, tensors };
}

async function writeFully(fh: FileHandle, data: Uint8Array, position: number): Promise<void> {
  let done = 0;
  while (done < data.byteLength) {
    const chunk = Math.min(data.byteLength - done, 0x40000000);
    const { bytesWritten } = await fh.write(data, done, chunk, position + done);
    done += bytesWritten;
  }
}

/** Makes the rename durable. Directories cannot be fsynced on Windows; that is not an error there. */
async function syncDir(dir: string): Promise<void> {
  let dh: FileHandle | undefined;
  try {
    dh = await open(dir, 'r');
    await dh.sync();
  } catch {
    // best effort
  } finally {
    await dh?.close().catch(() => undefined);
  }
}
