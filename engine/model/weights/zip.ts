// Minimal read-only zip reader for PyTorch checkpoints (torch.save writes a zip since PyTorch 1.6).
//
// Only the central directory is read into memory; entry data is read by positioned reads, so an 11 GB
// text-encoder .pth costs a few kilobytes to open. torch writes entries uncompressed ("stored") and
// 64-byte aligned, which lets callers point at the bytes in place; deflated entries (from tools that
// re-zip a checkpoint) are inflated with node:zlib. Zip64 is required: large checkpoints exceed 4 GB.
import { open } from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';
import { inflateRawSync } from 'node:zlib';

export class ZipError extends Error {
  readonly file: string;
  constructor(file: string, detail: string) {
    super(`${file}: ${detail}`);
    this.name = 'ZipError';
    this.file = file;
  }
}

export interface ZipEntry {
  readonly name: string;
  /** 0 = stored, 8 = deflate. */
  readonly method: number;
  readonly compressedSize: number;
  readonly uncompressedSize: number;
  readonly localHeaderOffset: number;
}

const SIG_EOCD = 0x06054b50;
const SIG_EOCD64 = 0x06064b50;
const SIG_EOCD64_LOCATOR = 0x07064b50;
const SIG_CENTRAL = 0x02014b50;
const SIG_LOCAL = 0x04034b50;

function u64(dv: DataView, at: number, file: string): number {
  const v = dv.getBigUint64(at, true);
  if (v > BigInt(Number.MAX_SAFE_INTEGER)) throw new ZipError(file, `zip field value ${v} is too large`);
  return Number(v);
}

async function readAt(fh: FileHandle, file: string, position: number, length: number): Promise<Uint8Array> {
  const buf = new Uint8Array(new ArrayBuffer(length));
  let done = 0;
  while (done < length) {
    const chunk = Math.min(length - done, 0x40000000);
    const { bytesRead } = await fh.read(buf, done, chunk, position + done);
    if (bytesRead === 0) {
      throw new ZipError(file, `truncated file: reading ${length} bytes at offset ${position} hit the end of the file after ${done} bytes`);
    }
    done += bytesRead;
  }
  return buf;
}

export class ZipReader {
  readonly path: string;
  readonly size: number;
  private readonly fh: FileHandle;
  private readonly byName: Map<string, ZipEntry>;
  private readonly dataOffsets = new Map<string, number>();
  private closed = false;

  private constructor(file: string, fh: FileHandle, size: number, entries: ZipEntry[]) {
    this.path = file;
    this.fh = fh;
    this.size = size;
    this.byName = new Map(entries.map((e) => [e.name, e]));
  }

  static async open(file: string): Promise<ZipReader> {
    const fh = await open(file, 'r');
    try {
      const size = (await fh.stat()).size;
      const entries = await readCentralDirectory(fh, file, size);
      return new ZipReader(file, fh, size, entries);
    } catch (e) {
      await fh.close();
      throw e;
    }
  }

  entries(): ZipEntry[] {
    return [...this.byName.values()];
  }

  get(name: string): ZipEntry | undefined {
    return this.byName.get(name);
  }

  /** Absolute offset of the entry's (possibly compressed) data: after its local header. */
  async dataOffset(entry: ZipEntry): Promise<number> {
    const cached = this.dataOffsets.get(entry.name);
    if (cached !== undefined) return cached;
    if (entry.localHeaderOffset + 30 > this.size) {
      throw new ZipError(this.path, `truncated file: entry '${entry.name}' has its header at ${entry.localHeaderOffset}, past the end (${this.size} bytes)`);
    }
    const h = await readAt(this.fh, this.path, entry.localHeaderOffset, 30);
    const dv = new DataView(h.buffer);
    if (dv.getUint32(0, true) !== SIG_LOCAL) throw new ZipError(this.path, `entry '${entry.name}': no local file header at offset ${entry.localHeaderOffset}`);
    // The local extra field may differ from the central one (torch pads it to align the data).
    const offset = entry.localHeaderOffset + 30 + dv.getUint16(26, true) + dv.getUint16(28, true);
    if (offset + entry.compressedSize > this.size) {
      throw new ZipError(
        this.path,
        `truncated file: entry '${entry.name}' needs bytes up to ${offset + entry.compressedSize} but the file is ${this.size} bytes`,
      );
    }
    this.dataOffsets.set(entry.name, offset);
    return offset;
  }

  /** `length` bytes of the entry's uncompressed content starting at `start`. */
  async read(entry: ZipEntry, start = 0, length = entry.uncompressedSize - start): Promise<Uint8Array> {
    if (this.closed) throw new ZipError(this.path, `cannot read '${entry.name}': the file was closed`);
    if (start < 0 || length < 0 || start + length > entry.uncompressedSize) {
      throw new ZipError(this.path, `entry '${entry.name}' is ${entry.uncompressedSize} bytes; cannot read [${start}, ${start + length})`);
    }
    const at = await this.dataOffset(entry);
    if (entry.method === 0) return readAt(this.fh, this.path, at + start, length);
    const raw = await readAt(this.fh, this.path, at, entry.compressedSize);
    let out: Uint8Array;
    try {
      out = inflateRawSync(raw, { maxOutputLength: Math.max(1, entry.uncompressedSize) });
    } catch (e) {
      throw new ZipError(this.path, `entry '${entry.name}' could not be inflated (${(e as Error).message})`);
    }
    if (out.byteLength !== entry.uncompressedSize) {
      throw new ZipError(this.path, `entry '${entry.name}' inflated to ${out.byteLength} bytes, expected ${entry.uncompressedSize}`);
    }
    // Copy into a fresh, aligned buffer so typed views never need another copy.
    const copy = new Uint8Array(new ArrayBuffer(length));
    copy.set(out.subarray(start, start + length));
    return copy;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.fh.close();
  }
}

async function readCentralDirectory(fh: FileHandle, file: string, size: number): Promise<ZipEntry[]> {
  if (size < 22) throw new ZipError(file, `file is ${size} bytes, too small to be a zip archive`);
  // The end-of-central-directory record is 22 bytes plus a comment of up to 65535 bytes.
  const tailLen = Math.min(size, 22 + 0xffff);
  const tail = await readAt(fh, file, size - tailLen, tailLen);
  const tv = new DataView(tail.buffer);
  let eocd = -1;
  for (let i = tailLen - 22; i >= 0; i--) {
    if (tv.getUint32(i, true) === SIG_EOCD && i + 22 + tv.getUint16(i + 20, true) <= tailLen) {
      eocd = i;
      break;
    }
  }
  if (eocd < 0) throw new ZipError(file, 'no zip end-of-central-directory record: not a zip archive, or a truncated one');
  let count = tv.getUint16(eocd + 10, true);
  let cdSize = tv.getUint32(eocd + 12, true);
  let cdOffset = tv.getUint32(eocd + 16, true);
  const eocdAbs = size - tailLen + eocd;

  // Zip64: a locator sits right before the classic record and points at the 64-bit record.
  if (eocdAbs >= 20) {
    const loc = await readAt(fh, file, eocdAbs - 20, 20);
    const lv = new DataView(loc.buffer);
    if (lv.getUint32(0, true) === SIG_EOCD64_LOCATOR) {
      const at = u64(lv, 8, file);
      if (at + 56 > size) throw new ZipError(file, `zip64 end-of-central-directory offset ${at} is past the end of the file (${size} bytes)`);
      const rec = await readAt(fh, file, at, 56);
      const rv = new DataView(rec.buffer);
      if (rv.getUint32(0, true) !== SIG_EOCD64) throw new ZipError(file, `no zip64 end-of-central-directory record at offset ${at}`);
      count = u64(rv, 32, file);
      cdSize = u64(rv, 40, file);
      cdOffset = u64(rv, 48, file);
    }
  }
  if (cdOffset + cdSize > size) {
    throw new ZipError(file, `truncated file: the zip central directory should span bytes [${cdOffset}, ${cdOffset + cdSize}) but the file is ${size} bytes`);
  }
  const cd = await readAt(fh, file, cdOffset, cdSize);
  const dv = new DataView(cd.buffer);
  const names = new TextDecoder('utf-8');
  const entries: ZipEntry[] = [];
  let p = 0;
  for (let i = 0; i < count; i++) {
    if (p + 46 > cdSize || dv.getUint32(p, true) !== SIG_CENTRAL) throw new ZipError(file, `zip central directory entry ${i} is malformed`);
    const flags = dv.getUint16(p + 8, true);
    const method = dv.getUint16(p + 10, true);
    let compressedSize = dv.getUint32(p + 20, true);
    let uncompressedSize = dv.getUint32(p + 24, true);
    const nameLen = dv.getUint16(p + 28, true);
    const extraLen = dv.getUint16(p + 30, true);
    const commentLen = dv.getUint16(p + 32, true);
    let localHeaderOffset = dv.getUint32(p + 42, true);
    if (p + 46 + nameLen + extraLen + commentLen > cdSize) throw new ZipError(file, `zip central directory entry ${i} runs past the directory`);
    const name = names.decode(cd.subarray(p + 46, p + 46 + nameLen));
    // Zip64 extended information: only the fields whose 32-bit value is saturated are present, in order.
    let x = p + 46 + nameLen;
    const xEnd = x + extraLen;
    while (x + 4 <= xEnd) {
      const id = dv.getUint16(x, true);
      const len = dv.getUint16(x + 2, true);
      if (id === 0x0001) {
        let f = x + 4;
        const take = (): number => {
          if (f + 8 > x + 4 + len) throw new ZipError(file, `zip entry '${name}' has a short zip64 extra field`);
          const v = u64(dv, f, file);
          f += 8;
          return v;
        };
        if (uncompressedSize === 0xffffffff) uncompressedSize = take();
        if (compressedSize === 0xffffffff) compressedSize = take();
        if (localHeaderOffset === 0xffffffff) localHeaderOffset = take();
      }
      x += 4 + len;
    }
    if (flags & 1) throw new ZipError(file, `zip entry '${name}' is encrypted`);
    if (method !== 0 && method !== 8) throw new ZipError(file, `zip entry '${name}' uses compression method ${method}; only stored (0) and deflate (8) are supported`);
    if (method === 0 && compressedSize !== uncompressedSize) {
      throw new ZipError(file, `stored zip entry '${name}' has different compressed (${compressedSize}) and uncompressed (${uncompressedSize}) sizes`);
    }
    if (localHeaderOffset + 30 + compressedSize > size) {
      throw new ZipError(
        file,
        `truncated file: zip entry '${name}' (${compressedSize} bytes at offset ${localHeaderOffset}) extends past the end of the file (${size} bytes)`,
      );
    }
    entries.push({ name, method, compressedSize, uncompressedSize, localHeaderOffset });
    p += 46 + nameLen + extraLen + commentLen;
  }
  return entries;
}
