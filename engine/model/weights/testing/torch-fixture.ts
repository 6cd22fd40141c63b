// Test-only writer of `.pth` files laid out the way torch.save writes them, so the reader can be tested
// without PyTorch: a pickle (protocol 2, with the same opcode sequence and memo use as Python's pickler
// for an OrderedDict state dict) and a zip with 64-byte-aligned stored entries (as PyTorchStreamWriter
// aligns them), optionally with zip64 records and deflated entries.
import { writeFileSync } from 'node:fs';
import { deflateRawSync } from 'node:zlib';
import type { WeightDtype } from '../dtypes.js';

const te = new TextEncoder();

/** Emits pickle opcodes. Method names follow the opcode names in CPython's pickle.py. */
export class PickleWriter {
  private out: number[] = [];
  private memo = 0;
  private readonly globals = new Map<string, number>();

  raw(...bytes: number[]): this {
    this.out.push(...bytes);
    return this;
  }
  private u32(n: number): void {
    this.out.push(n & 0xff, (n >>> 8) & 0xff, (n >>> 16) & 0xff, (n >>> 24) & 0xff);
  }
  proto(v = 2): this {
    return this.raw(0x80, v);
  }
  /** GLOBAL, or BINGET when this global was already written (as Python's memo does). */
  global(module: string, name: string): this {
    const key = `${module}.${name}`;
    const m = this.globals.get(key);
    if (m !== undefined) return this.get(m);
    this.raw(0x63, ...te.encode(`${module}\n${name}\n`));
    this.globals.set(key, this.put());
    return this;
  }
  stackGlobal(module: string, name: string): this {
    return this.unicode(module).unicode(name).raw(0x93);
  }
  unicode(s: string): this {
    const b = te.encode(s);
    this.raw(0x58);
    this.u32(b.length);
    return this.raw(...b);
  }
  int(n: number): this {
    if (n >= 0 && n < 256) return this.raw(0x4b, n);
    if (n >= 0 && n < 65536) return this.raw(0x4d, n & 0xff, n >>> 8);
    if (n >= -0x80000000 && n <= 0x7fffffff) {
      this.raw(0x4a);
      this.u32(n);
      return this;
    }
    // LONG1, little-endian two's complement, minimal length.
    let v = BigInt(n);
    const bytes: number[] = [];
    while (true) {
      bytes.push(Number(v & 0xffn));
      v >>= 8n;
      if ((v === 0n && (bytes[bytes.length - 1]! & 0x80) === 0) || (v === -1n && (bytes[bytes.length - 1]! & 0x80) !== 0)) break;
    }
    return this.raw(0x8a, bytes.length, ...bytes);
  }
  bool(b: boolean): this {
    return this.raw(b ? 0x88 : 0x89);
  }
  mark(): this {
    return this.raw(0x28);
  }
  tuple(): this {
    return this.raw(0x74);
  }
  emptyTuple(): this {
    return this.raw(0x29);
  }
  emptyDict(): this {
    return this.raw(0x7d);
  }
  setitem(): this {
    return this.raw(0x73);
  }
  setitems(): this {
    return this.raw(0x75);
  }
  reduce(): this {
    return this.raw(0x52);
  }
  binpersid(): this {
    return this.raw(0x51);
  }
  build(): this {
    return this.raw(0x62);
  }
  stop(): this {
    return this.raw(0x2e);
  }
  /** BINPUT / LONG_BINPUT of the next memo slot; returns the slot. */
  put(): number {
    const i = this.memo++;
    if (i < 256) this.raw(0x71, i);
    else {
      this.raw(0x72);
      this.u32(i);
    }
    return i;
  }
  get(i: number): this {
    if (i < 256) return this.raw(0x68, i);
    this.raw(0x6a);
    this.u32(i);
    return this;
  }
  /** A tuple of ints, as Python writes it: TUPLE1/2/3 for short ones, MARK ... TUPLE otherwise. */
  intTuple(items: readonly number[]): this {
    if (items.length === 0) return this.emptyTuple();
    if (items.length <= 3) {
      for (const v of items) this.int(v);
      this.raw(0x84 + items.length);
    } else {
      this.mark();
      for (const v of items) this.int(v);
      this.tuple();
    }
    this.put();
    return this;
  }
  bytes(): Uint8Array {
    return Uint8Array.from(this.out);
  }
}

export const STORAGE_CLASS: Readonly<Record<WeightDtype, string>> = {
  F64: 'DoubleStorage',
  F32: 'FloatStorage',
  F16: 'HalfStorage',
  BF16: 'BFloat16Storage',
  I64: 'LongStorage',
  I32: 'IntStorage',
  I16: 'ShortStorage',
  I8: 'CharStorage',
  U8: 'ByteStorage',
  BOOL: 'BoolStorage',
};

export interface FixtureStorage {
  key: string;
  dtype: WeightDtype;
  /** Raw little-endian bytes of the whole storage. */
  data: Uint8Array;
}

export interface FixtureTensor {
  name: string;
  storage: string;
  /** Element offset into the storage. */
  offset?: number;
  shape: readonly number[];
  /** Defaults to row-major contiguous. */
  stride?: readonly number[];
}

function contiguousStride(shape: readonly number[]): number[] {
  const s: number[] = new Array<number>(shape.length);
  let acc = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    s[i] = acc;
    acc *= shape[i]!;
  }
  return s;
}

const ELEM: Readonly<Record<WeightDtype, number>> = { F64: 8, F32: 4, F16: 2, BF16: 2, I64: 8, I32: 4, I16: 2, I8: 1, U8: 1, BOOL: 1 };

/** The data.pkl torch.save writes for `OrderedDict(name -> tensor)` (a model's state_dict()). */
export function stateDictPickle(storages: readonly FixtureStorage[], tensors: readonly FixtureTensor[]): Uint8Array {
  const w = new PickleWriter().proto(2);
  const byKey = new Map(storages.map((s) => [s.key, s]));
  const strMemo = new Map<string, number>();
  const str = (s: string): void => {
    const m = strMemo.get(s);
    if (m !== undefined) w.get(m);
    else {
      w.unicode(s.startsWith('key:') ? s.slice(4) : s);
      strMemo.set(s, w.put());
    }
  };
  w.global('collections', 'OrderedDict').emptyTuple().reduce();
  w.put();
  if (tensors.length > 1) w.mark();
  for (const t of tensors) {
    const st = byKey.get(t.storage);
    if (!st) throw new Error(`fixture: unknown storage ${t.storage}`);
    w.unicode(t.name);
    w.put();
    w.global('torch._utils', '_rebuild_tensor_v2');
    w.mark();
    // The persistent id ('storage', <Storage class>, key, location, numel): persistent_id builds a new
    // tuple for every tensor, while the strings in it are the same objects and so come from the memo.
    w.mark();
    str('storage');
    w.global('torch', STORAGE_CLASS[st.dtype]);
    str(`key:${st.key}`);
    str('cpu');
    w.int(st.data.byteLength / ELEM[st.dtype]).tuple();
    w.put();
    w.binpersid();
    w.int(t.offset ?? 0);
    w.intTuple(t.shape);
    w.intTuple(t.stride ?? contiguousStride(t.shape));
    w.bool(false);
    w.global('collections', 'OrderedDict').emptyTuple().reduce();
    w.put();
    w.tuple();
    w.put();
    w.reduce();
    w.put();
    if (tensors.length === 1) w.setitem();
  }
  if (tensors.length > 1) w.setitems();
  // state: {'_metadata': OrderedDict([('', {'version': 1})])}, applied with BUILD.
  w.emptyDict();
  w.put();
  w.unicode('_metadata');
  w.put();
  w.global('collections', 'OrderedDict').emptyTuple().reduce();
  w.put();
  w.unicode('');
  w.put();
  w.emptyDict();
  w.put();
  w.unicode('version');
  w.put();
  w.int(1).setitem().setitem();
  w.setitem();
  w.build();
  w.stop();
  return w.bytes();
}

// ---- zip

let crcTable: Uint32Array | null = null;
function crc32(data: Uint8Array): number {
  if (!crcTable) {
    crcTable = new Uint32Array(256);
    for (let n = 0; n < 256; n++) {
      let c = n;
      for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
      crcTable[n] = c >>> 0;
    }
  }
  let c = 0xffffffff;
  for (const b of data) c = crcTable[(c ^ b) & 0xff]! ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

export interface ZipFixtureEntry {
  name: string;
  data: Uint8Array;
  deflate?: boolean;
}

class Bytes {
  private chunks: Uint8Array[] = [];
  length = 0;
  push(b: Uint8Array): void {
    this.chunks.push(b);
    this.length += b.length;
  }
  le(n: number, size: 2 | 4 | 8): void {
    const b = new Uint8Array(size);
    const dv = new DataView(b.buffer);
    if (size === 2) dv.setUint16(0, n, true);
    else if (size === 4) dv.setUint32(0, n, true);
    else dv.setBigUint64(0, BigInt(n), true);
    this.push(b);
  }
  concat(): Uint8Array {
    const out = new Uint8Array(this.length);
    let o = 0;
    for (const c of this.chunks) {
      out.set(c, o);
      o += c.length;
    }
    return out;
  }
}

/**
 * A zip archive as bytes: stored entries with data aligned to 64 bytes through a padding extra field
 * (id 'FB', as PyTorchStreamWriter does), or deflated entries. `zip64` forces zip64 size/offset fields
 * and end records, as torch writes for files over 4 GB.
 */
export function zipBytes(entries: readonly ZipFixtureEntry[], opts: { zip64?: boolean } = {}): Uint8Array {
  const z64 = opts.zip64 ?? false;
  const out = new Bytes();
  const central = new Bytes();
  for (const e of entries) {
    const name = te.encode(e.name);
    const body = e.deflate ? deflateRawSync(e.data) : e.data;
    const crc = crc32(e.data);
    const offset = out.length;
    const z64Local = z64 ? 20 : 0;
    const base = offset + 30 + name.length + z64Local + 4;
    const pad = e.deflate ? 0 : (64 - (base % 64)) % 64;
    out.le(0x04034b50, 4);
    out.le(z64 ? 45 : 20, 2);
    out.le(0, 2);
    out.le(e.deflate ? 8 : 0, 2);
    out.le(0, 2);
    out.le(0x21, 2);
    out.le(crc, 4);
    out.le(z64 ? 0xffffffff : body.length, 4);
    out.le(z64 ? 0xffffffff : e.data.length, 4);
    out.le(name.length, 2);
    out.le(z64Local + 4 + pad, 2);
    out.push(name);
    if (z64) {
      out.le(0x0001, 2);
      out.le(16, 2);
      out.le(e.data.length, 8);
      out.le(body.length, 8);
    }
    out.le(0x4246, 2);
    out.le(pad, 2);
    out.push(new Uint8Array(pad).fill(0x5a));
    out.push(body);

    central.le(0x02014b50, 4);
    central.le(z64 ? 45 : 20, 2);
    central.le(z64 ? 45 : 20, 2);
    central.le(0, 2);
    central.le(e.deflate ? 8 : 0, 2);
    central.le(0, 2);
    central.le(0x21, 2);
    central.le(crc, 4);
    central.le(z64 ? 0xffffffff : body.length, 4);
    central.le(z64 ? 0xffffffff : e.data.length, 4);
    central.le(name.length, 2);
    central.le(z64 ? 28 : 0, 2);
    central.le(0, 2);
    central.le(0, 2);
    central.le(0, 2);
    central.le(0, 4);
    central.le(z64 ? 0xffffffff : offset, 4);
    central.push(name);
    if (z64) {
      central.le(0x0001, 2);
      central.le(24, 2);
      central.le(e.data.length, 8);
      central.le(body.length, 8);
      central.le(offset, 8);
    }
  }
  const cdOffset = out.length;
  const cd = central.concat();
  out.push(cd);
  if (z64) {
    const eocd64 = out.length;
    out.le(0x06064b50, 4);
    out.le(44, 8);
    out.le(45, 2);
    out.le(45, 2);
    out.le(0, 4);
    out.le(0, 4);
    out.le(entries.length, 8);
    out.le(entries.length, 8);
    out.le(cd.length, 8);
    out.le(cdOffset, 8);
    out.le(0x07064b50, 4);
    out.le(0, 4);
    out.le(eocd64, 8);
    out.le(1, 4);
  }
  out.le(0x06054b50, 4);
  out.le(0, 2);
  out.le(0, 2);
  out.le(z64 ? 0xffff : entries.length, 2);
  out.le(z64 ? 0xffff : entries.length, 2);
  out.le(z64 ? 0xffffffff : cd.length, 4);
  out.le(z64 ? 0xffffffff : cdOffset, 4);
  out.le(0, 2);
  return out.concat();
}

/**
 * Writes a torch.save-style checkpoint. `folder` is the archive's top folder (torch uses "archive" or
 * the file's stem). `pickle` overrides the generated data.pkl (for malformed/malicious fixtures).
 */
export function writeTorchCheckpoint(
  file: string,
  storages: readonly FixtureStorage[],
  tensors: readonly FixtureTensor[],
  opts: { folder?: string; zip64?: boolean; deflate?: boolean; pickle?: Uint8Array; byteorder?: string } = {},
): void {
  const folder = opts.folder ?? 'archive';
  const entries: ZipFixtureEntry[] = [
    { name: `${folder}/data.pkl`, data: opts.pickle ?? stateDictPickle(storages, tensors), deflate: opts.deflate },
    { name: `${folder}/byteorder`, data: te.encode(opts.byteorder ?? 'little') },
    ...storages.map((s) => ({ name: `${folder}/data/${s.key}`, data: s.data, deflate: opts.deflate })),
    { name: `${folder}/version`, data: te.encode('3\n') },
  ];
  writeFileSync(file, zipBytes(entries, { zip64: opts.zip64 }));
}
