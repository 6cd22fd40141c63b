// Weights-only reader for PyTorch `.pth` checkpoints (the zip format torch.save writes since 1.6).
//
// Layout: `<folder>/data.pkl` (the pickled object; <folder> is "archive" or the file's stem, depending
// on the torch version), `<folder>/data/<key>` (one raw little-endian file per storage), optional
// `<folder>/byteorder` and `<folder>/version`. Tensors appear in the pickle as
//   torch._utils._rebuild_tensor_v2(<persistent id>, storage_offset, size, stride, requires_grad, hooks)
// where the persistent id is ('storage', torch.<Type>Storage, key, location, numel).
//
// The pickle is decoded by the restricted VM in pickle.ts. This file supplies its hooks: an explicit
// allowlist of the globals torch.save writes for a state dict, each "called" by a small JS function that
// builds a description. Any other global (os.system, builtins.eval, a TorchScript class, ...) is refused
// by name before anything happens; nothing from the file is ever executed. Tensor data is not read at
// open time: each tensor records its storage entry and offset and is read on demand.
import { open } from 'node:fs/promises';
import { endianness } from 'node:os';
import { DTYPE_BYTES, numelOf, toF16, toF32, viewAs, convertOrExplain } from './dtypes.js';
import type { WeightArray, WeightDtype } from './dtypes.js';
import type { HalfConversion } from '../../graph/half.js';
import { PickleError, PyTuple, describe, unpickle } from './pickle.js';
import { ZipError, ZipReader } from './zip.js';
import type { ZipEntry } from './zip.js';

if (endianness() !== 'LE') throw new Error('pth: big-endian hosts are not supported');

export class PthError extends Error {
  readonly file: string;
  constructor(file: string, detail: string) {
    super(`${file}: ${detail}`);
    this.name = 'PthError';
    this.file = file;
  }
}

/** Legacy typed storage classes (`torch.FloatStorage`, ...) and the dtype each holds. */
const STORAGE_DTYPES: Readonly<Record<string, WeightDtype>> = {
  DoubleStorage: 'F64',
  FloatStorage: 'F32',
  HalfStorage: 'F16',
  BFloat16Storage: 'BF16',
  LongStorage: 'I64',
  IntStorage: 'I32',
  ShortStorage: 'I16',
  CharStorage: 'I8',
  ByteStorage: 'U8',
  BoolStorage: 'BOOL',
};

/** `torch.<dtype>` globals, used by _rebuild_tensor_v3 for dtypes saved with an untyped storage. */
const TORCH_DTYPES: Readonly<Record<string, WeightDtype>> = {
  float64: 'F64',
  double: 'F64',
  float32: 'F32',
  float: 'F32',
  float16: 'F16',
  half: 'F16',
  bfloat16: 'BF16',
  int64: 'I64',
  long: 'I64',
  int32: 'I32',
  int: 'I32',
  int16: 'I16',
  short: 'I16',
  int8: 'I8',
  uint8: 'U8',
  bool: 'BOOL',
};

// Tokens that the `global` hook returns; REDUCE dispatches on them.
class StorageType {
  constructor(
    readonly qualname: string,
    readonly dtype: WeightDtype,
  ) {}
}
class TorchDtype {
  constructor(
    readonly qualname: string,
    readonly dtype: WeightDtype,
  ) {}
}
type FnName =
  | 'collections.OrderedDict'
  | 'torch._utils._rebuild_tensor'
  | 'torch._utils._rebuild_tensor_v2'
  | 'torch._utils._rebuild_tensor_v3'
  | 'torch._utils._rebuild_parameter'
  | 'torch._utils._rebuild_parameter_with_state'
  | 'torch._tensor._rebuild_from_type_v2'
  | 'torch.Size';
class AllowedFn {
  constructor(readonly qualname: FnName) {}
}
/** A class that may be named as the type argument of _rebuild_from_type_v2, never called. */
class TensorClass {
  constructor(readonly qualname: string) {}
}

const ALLOWED_FNS: ReadonlySet<string> = new Set<FnName>([
  'collections.OrderedDict',
  'torch._utils._rebuild_tensor',
  'torch._utils._rebuild_tensor_v2',
  'torch._utils._rebuild_tensor_v3',
  'torch._utils._rebuild_parameter',
  'torch._utils._rebuild_parameter_with_state',
  'torch._tensor._rebuild_from_type_v2',
  'torch.Size',
]);
const TENSOR_CLASSES: ReadonlySet<string> = new Set(['torch.Tensor', 'torch._tensor.Tensor', 'torch.nn.parameter.Parameter', 'torch.nn.Parameter']);

interface StorageRef {
  readonly key: string;
  readonly dtype: WeightDtype;
  readonly location: string;
  readonly nbytes: number;
}

/** A tensor as rebuilt from the pickle: a description only, data read lazily. */
export class PthTensorRef {
  constructor(
    readonly dtype: WeightDtype,
    readonly shape: readonly number[],
    readonly stride: readonly number[],
    readonly storage: StorageRef,
    /** In elements of `dtype`. */
    readonly storageOffset: number,
  ) {}
}

export interface PthTensorInfo {
  /** Flattened name: nested dict keys joined with '.'. */
  readonly name: string;
  readonly dtype: WeightDtype;
  readonly shape: readonly number[];
  readonly stride: readonly number[];
  readonly numel: number;
  readonly byteLength: number;
  /** Row-major contiguous (dims of size 1 may have any stride). Only contiguous tensors can be read. */
  readonly contiguous: boolean;
  readonly storageKey: string;
  /** Element offset into the storage. */
  readonly storageOffset: number;
  /** The device the tensor was saved from ('cpu', 'cuda:0', ...); informational. */
  readonly location: string;
  /** Zip entry holding the storage. */
  readonly entryName: string;
  /** Absolute offset of the tensor's bytes in the .pth when its storage is stored uncompressed, else null. */
  readonly fileOffset: number | null;
}

export function isContiguous(shape: readonly number[], stride: readonly number[]): boolean {
  let expected = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    const d = shape[i]!;
    if (d !== 1 && stride[i] !== expected) return false;
    expected *= d;
  }
  return true;
}

const fmt = (a: readonly unknown[]): string => `[${a.join(',')}]`;

function intList(v: unknown): number[] | null {
  const items = v instanceof PyTuple ? v.items : Array.isArray(v) ? v : null;
  if (!items || !items.every((x) => typeof x === 'number' && Number.isSafeInteger(x))) return null;
  return items as number[];
}

/** Hooks that turn a torch.save pickle into descriptions, refusing anything outside the allowlist. */
function torchHooks(file: string, storages: Map<string, StorageRef>) {
  const fail = (detail: string): never => {
    throw new PthError(file, detail);
  };

  const rebuild = (who: string, storage: unknown, offset: unknown, size: unknown, stride: unknown, dtypeOverride?: WeightDtype): PthTensorRef => {
    if (!(storage && typeof storage === 'object' && 'key' in storage && 'nbytes' in storage)) {
      fail(`${who}: expected a storage, got a ${describe(storage)}`);
    }
    const st = storage as StorageRef;
    const shape = intList(size);
    const strides = intList(stride);
    if (typeof offset !== 'number' || !Number.isSafeInteger(offset) || offset < 0) fail(`${who}: bad storage offset ${String(offset)}`);
    if (!shape || !strides || shape.length !== strides.length || shape.some((d) => d < 0) || strides.some((s) => s < 0)) {
      fail(`${who}: bad size/stride ${describe(size)} ${describe(stride)}`);
    }
    const dtype = dtypeOverride ?? st.dtype;
    const numel = numelOf(shape!);
    if (numel > 0) {
      let last = offset as number;
      for (let i = 0; i < shape!.length; i++) last += (shape![i]! - 1) * strides![i]!;
      const endByte = (last + 1) * DTYPE_BYTES[dtype];
      if (endByte > st.nbytes) {
        fail(
          `tensor of shape ${fmt(shape!)} with stride ${fmt(strides!)} at offset ${String(offset)} reaches byte ${endByte} ` +
            `of storage '${st.key}', which holds only ${st.nbytes} bytes`,
        );
      }
    }
    return new PthTensorRef(dtype, shape!, strides!, st, offset as number);
  };

  const arg = (args: PyTuple, i: number): unknown => args.items[i];

  const hooks = {
    global(module: string, name: string): unknown {
      const qualname = `${module}.${name}`;
      if (ALLOWED_FNS.has(qualname)) return new AllowedFn(qualname as FnName);
      if (TENSOR_CLASSES.has(qualname)) return new TensorClass(qualname);
      if (module === 'torch' && Object.prototype.hasOwnProperty.call(STORAGE_DTYPES, name)) return new StorageType(qualname, STORAGE_DTYPES[name]!);
      if ((module === 'torch' || module === 'torch.storage') && name === 'UntypedStorage') return new StorageType(qualname, 'U8');
      if (module === 'torch' && Object.prototype.hasOwnProperty.call(TORCH_DTYPES, name)) return new TorchDtype(qualname, TORCH_DTYPES[name]!);
      return fail(
        `refusing to load: the pickle names the global '${qualname}', which the weights-only reader does not allow ` +
          `(only collections.OrderedDict and torch's tensor/storage rebuild functions are accepted; nothing was executed)`,
      );
    },

    reduce(fn: unknown, args: PyTuple): unknown {
      if (!(fn instanceof AllowedFn)) {
        const what = fn instanceof StorageType || fn instanceof TorchDtype || fn instanceof TensorClass ? fn.qualname : `a ${describe(fn)}`;
        return fail(`refusing to load: the pickle tries to call ${what}, which the weights-only reader does not allow`);
      }
      switch (fn.qualname) {
        case 'collections.OrderedDict': {
          const m = new Map<unknown, unknown>();
          const init = arg(args, 0);
          if (args.items.length === 0) return m;
          const pairs = init instanceof PyTuple ? init.items : Array.isArray(init) ? init : null;
          if (args.items.length !== 1 || !pairs) return fail(`OrderedDict called with unsupported arguments`);
          for (const p of pairs!) {
            if (!(p instanceof PyTuple) || p.items.length !== 2) return fail('OrderedDict items must be (key, value) pairs');
            m.set(p.items[0], p.items[1]);
          }
          return m;
        }
        case 'torch.Size': {
          const dims = intList(arg(args, 0) ?? new PyTuple([]));
          if (!dims) return fail('torch.Size needs a tuple of integers');
          return new PyTuple(dims!);
        }
        case 'torch._utils._rebuild_tensor':
          return rebuild(fn.qualname, arg(args, 0), arg(args, 1), arg(args, 2), arg(args, 3));
        case 'torch._utils._rebuild_tensor_v2':
          // (storage, storage_offset, size, stride, requires_grad, backward_hooks[, metadata])
          if (args.items.length < 4) return fail(`${fn.qualname} needs at least 4 arguments, got ${args.items.length}`);
          return rebuild(fn.qualname, arg(args, 0), arg(args, 1), arg(args, 2), arg(args, 3));
        case 'torch._utils._rebuild_tensor_v3': {
          // (storage, storage_offset, size, stride, requires_grad, backward_hooks, dtype[, metadata])
          const dt = arg(args, 6);
          if (!(dt instanceof TorchDtype)) return fail(`${fn.qualname} needs a torch dtype as its 7th argument`);
          return rebuild(fn.qualname, arg(args, 0), arg(args, 1), arg(args, 2), arg(args, 3), (dt as TorchDtype).dtype);
        }
        case 'torch._utils._rebuild_parameter':
        case 'torch._utils._rebuild_parameter_with_state': {
          // nn.Parameter saved directly: (data, requires_grad, backward_hooks[, state]); keep the data.
          const data = arg(args, 0);
          if (!(data instanceof PthTensorRef)) return fail(`${fn.qualname} expects a tensor, got a ${describe(data)}`);
          return data;
        }
        case 'torch._tensor._rebuild_from_type_v2': {
          // (func, new_type, args, state): a tensor subclass or a tensor with Python attributes.
          const [inner, type, innerArgs] = args.items;
          if (!(type instanceof TensorClass)) return fail(`${fn.qualname} with type ${describe(type)} is not allowed`);
          if (!(inner instanceof AllowedFn) || inner.qualname === 'torch._tensor._rebuild_from_type_v2' || !(innerArgs instanceof PyTuple)) {
            return fail(`${fn.qualname} must wrap a tensor rebuild function`);
          }
          const t = hooks.reduce(inner, innerArgs as PyTuple);
          if (!(t instanceof PthTensorRef)) return fail(`${fn.qualname} did not produce a tensor`);
          return t;
        }
      }
    },

    build(obj: unknown, state: unknown): unknown {
      // torch.save state dicts carry `_metadata` (module versions) as OrderedDict state; tensors with
      // Python attributes carry a state dict. Neither matters for weights, so state is dropped.
      if (obj instanceof Map || obj instanceof PthTensorRef) return obj;
      return fail(`refusing to load: BUILD on a ${describe(obj)} (state ${describe(state)}) is not allowed`);
    },

    persistentLoad(pid: unknown): unknown {
      if (!(pid instanceof PyTuple) || pid.items.length !== 5 || pid.items[0] !== 'storage') {
        return fail(`unsupported persistent id ${describe(pid)}; expected ('storage', type, key, location, numel)`);
      }
      const [, type, key, location, numel] = pid.items;
      if (!(type instanceof StorageType)) return fail(`persistent id names ${describe(type)} instead of a storage type`);
      if (typeof key !== 'string' || !/^[A-Za-z0-9_.-]+$/.test(key)) return fail(`bad storage key ${JSON.stringify(key)}`);
      if (typeof numel !== 'number' || !Number.isSafeInteger(numel) || numel < 0) return fail(`storage '${String(key)}' has a bad size ${String(numel)}`);
      const st = type as StorageType;
      const ref: StorageRef = { key: key as string, dtype: st.dtype, location: String(location), nbytes: (numel as number) * DTYPE_BYTES[st.dtype] };
      const prev = storages.get(ref.key);
      if (prev) {
        if (prev.nbytes !== ref.nbytes) return fail(`storage '${ref.key}' is declared with ${prev.nbytes} and ${ref.nbytes} bytes`);
        return prev;
      }
      storages.set(ref.key, ref);
      return ref;
    },
  };
  return hooks;
}

/** Collects tensors from nested dicts, naming them by their key path joined with '.'. */
function flattenTensors(file: string, root: unknown): Map<string, PthTensorRef> {
  const out = new Map<string, PthTensorRef>();
  const visit = (v: unknown, prefix: string): void => {
    if (v instanceof PthTensorRef) {
      if (out.has(prefix)) throw new PthError(file, `two tensors flatten to the same name '${prefix}'`);
      out.set(prefix, v);
    } else if (v instanceof Map) {
      for (const [k, child] of v) {
        if (typeof k !== 'string' && typeof k !== 'number') continue;
        visit(child, prefix === '' ? String(k) : `${prefix}.${String(k)}`);
      }
    }
  };
  visit(root, '');
  return out;
}

/** data.pkl of a state dict is kilobytes (names and shapes only); refuse absurd ones before reading. */
const MAX_PICKLE_BYTES = 256 * 1024 * 1024;

/** Explains why a file without a zip directory is not readable: cut short, legacy format, or neither. */
async function notAZip(file: string): Promise<PthError> {
  const fh = await open(file, 'r');
  try {
    const size = (await fh.stat()).size;
    const head = new Uint8Array(4);
    await fh.read(head, 0, 4, 0);
    if (head[0] === 0x50 && head[1] === 0x4b && head[2] === 3 && head[3] === 4) {
      return new PthError(
        file,
        `truncated file: it starts as a zip archive but its end-of-central-directory record is missing (${size} bytes); the download or copy is probably incomplete`,
      );
    }
    if (head[0] === 0x80) {
      return new PthError(
        file,
        'not a zip-based PyTorch checkpoint (the legacy torch.save format from before PyTorch 1.6 is not supported; re-save it with a current PyTorch)',
      );
    }
    return new PthError(file, 'not a PyTorch checkpoint (no zip archive found)');
  } finally {
    await fh.close();
  }
}

/** An open .pth: tensor descriptions in memory, data read from the zip on demand. */
export class PthFile {
  readonly path: string;
  /** The decoded pickle (dicts as Maps, tensors as PthTensorRef). */
  readonly root: unknown;
  private readonly zip: ZipReader;
  private readonly infos: Map<string, PthTensorInfo>;

  private constructor(file: string, zip: ZipReader, root: unknown, infos: Map<string, PthTensorInfo>) {
    this.path = file;
    this.zip = zip;
    this.root = root;
    this.infos = infos;
  }

  static async open(file: string): Promise<PthFile> {
    let zip: ZipReader;
    try {
      zip = await ZipReader.open(file);
    } catch (e) {
      if (e instanceof ZipError && /no zip end-of-central-directory/.test(e.message)) throw await notAZip(file);
      throw e;
    }
    try {
      const pkls = zip.entries().filter((e) => /^[^/]+\/data\.pkl$/.test(e.name));
      if (pkls.length !== 1) {
        throw new PthError(
          file,
          pkls.length === 0
            ? 'the zip has no <folder>/data.pkl entry: not a PyTorch checkpoint'
            : `the zip has several data.pkl entries (${pkls.map((e) => e.name).join(', ')})`,
        );
      }
      const prefix = pkls[0]!.name.slice(0, -'data.pkl'.length);
      const bo = zip.get(`${prefix}byteorder`);
      if (bo) {
        const order = new TextDecoder().decode(await zip.read(bo)).trim();
        if (order !== 'little') throw new PthError(file, `the checkpoint was saved with ${order}-endian storages; only little-endian is supported`);
      }
      if (pkls[0]!.uncompressedSize > MAX_PICKLE_BYTES) {
        throw new PthError(file, `${pkls[0]!.name} is ${pkls[0]!.uncompressedSize} bytes; a weights pickle is far smaller (limit ${MAX_PICKLE_BYTES})`);
      }
      const storages = new Map<string, StorageRef>();
      let root: unknown;
      try {
        root = unpickle(await zip.read(pkls[0]!), torchHooks(file, storages), pkls[0]!.name);
      } catch (e) {
        if (e instanceof PickleError) throw new PthError(file, e.message);
        throw e;
      }

      const entryOf = new Map<string, ZipEntry>();
      for (const st of storages.values()) {
        const name = `${prefix}data/${st.key}`;
        const entry = zip.get(name);
        if (!entry) throw new PthError(file, `storage '${st.key}' is missing: the zip has no entry '${name}'`);
        if (entry.uncompressedSize < st.nbytes) {
          throw new PthError(file, `storage '${st.key}' should hold ${st.nbytes} bytes but '${name}' has ${entry.uncompressedSize}`);
        }
        entryOf.set(st.key, entry);
      }

      const infos = new Map<string, PthTensorInfo>();
      for (const [name, t] of flattenTensors(file, root)) {
        const entry = entryOf.get(t.storage.key)!;
        const size = DTYPE_BYTES[t.dtype];
        const numel = numelOf(t.shape);
        const fileOffset = entry.method === 0 ? (await zip.dataOffset(entry)) + t.storageOffset * size : null;
        infos.set(name, {
          name,
          dtype: t.dtype,
          shape: t.shape,
          stride: t.stride,
          numel,
          byteLength: numel * size,
          contiguous: isContiguous(t.shape, t.stride),
          storageKey: t.storage.key,
          storageOffset: t.storageOffset,
          location: t.storage.location,
          entryName: entry.name,
          fileOffset,
        });
      }
      return new PthFile(file, zip, root, infos);
    } catch (e) {
      await zip.close();
      throw e;
    }
  }

  names(): string[] {
    return [...this.infos.keys()];
  }

  tensors(): PthTensorInfo[] {
    return [...this.infos.values()];
  }

  has(name: string): boolean {
    return this.infos.has(name);
  }

  info(name: string): PthTensorInfo {
    const t = this.infos.get(name);
    if (!t) throw new PthError(this.path, `no tensor named '${name}' (the checkpoint has ${this.infos.size} tensors)`);
    return t;
  }

  /** The tensor's raw little-endian bytes (contiguous tensors only). */
  async readBytes(name: string): Promise<Uint8Array> {
    const t = this.info(name);
    if (!t.contiguous) {
      throw new PthError(
        this.path,
        `tensor '${name}' is not contiguous (shape ${fmt(t.shape)}, stride ${fmt(t.stride)}); ` +
          `re-save it after calling .contiguous() on it`,
      );
    }
    const entry = this.zip.get(t.entryName)!;
    return this.zip.read(entry, t.storageOffset * DTYPE_BYTES[t.dtype], t.byteLength);
  }

  /** The tensor as its own typed array (F16/BF16 as Uint16 bits, BOOL as Uint8). */
  async read(name: string): Promise<WeightArray> {
    return viewAs(this.info(name).dtype, await this.readBytes(name));
  }

  async readF32(name: string): Promise<Float32Array> {
    const dtype = this.info(name).dtype;
    const bytes = await this.readBytes(name);
    return convertOrExplain(() => toF32(dtype, bytes), (m) => new PthError(this.path, `tensor '${name}': ${m}`));
  }

  async readF16(name: string): Promise<HalfConversion> {
    const dtype = this.info(name).dtype;
    const bytes = await this.readBytes(name);
    return convertOrExplain(() => toF16(dtype, bytes), (m) => new PthError(this.path, `tensor '${name}': ${m}`));
  }

  async close(): Promise<void> {
    await this.zip.close();
  }
}
