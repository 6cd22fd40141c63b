// A restricted pickle virtual machine: it decodes the opcodes torch.save emits (protocol 2, plus the
// harmless data opcodes of protocols 3-5) into plain JS values and NEVER executes anything. Pickle's
// power comes from GLOBAL (look up any Python callable) + REDUCE (call it); here GLOBAL goes through
// the caller's `global` hook, which must refuse every name it does not know, and REDUCE/BUILD/persistent
// ids go through hooks too. Opcodes that instantiate arbitrary classes (INST, OBJ, NEWOBJ, NEWOBJ_EX,
// EXT*) are refused outright.
//
// Value model: None -> null, bool -> boolean, int -> number (bigint beyond 2^53), float -> number,
// str -> string, bytes -> Uint8Array, list -> array, tuple -> PyTuple, dict -> Map, set -> Set.

export class PickleError extends Error {
  constructor(detail: string) {
    super(detail);
    this.name = 'PickleError';
  }
}

/** A Python tuple (kept distinct from lists, which are JS arrays). */
export class PyTuple {
  readonly items: readonly unknown[];
  constructor(items: readonly unknown[]) {
    this.items = items;
  }
}

export interface UnpickleHooks {
  /** GLOBAL / STACK_GLOBAL. Must throw for any name that is not explicitly allowed. */
  global(module: string, name: string): unknown;
  /** REDUCE: call `callable` (a value returned by `global`) with `args`. */
  reduce(callable: unknown, args: PyTuple): unknown;
  /** BUILD: apply `state` to `obj`; returns the object that replaces it on the stack. */
  build(obj: unknown, state: unknown): unknown;
  /** BINPERSID / PERSID. */
  persistentLoad(pid: unknown): unknown;
}

const OPNAMES: Record<number, string> = {
  0x69: 'INST',
  0x6f: 'OBJ',
  0x81: 'NEWOBJ',
  0x82: 'EXT1',
  0x83: 'EXT2',
  0x84: 'EXT4',
  0x92: 'NEWOBJ_EX',
  0x97: 'NEXT_BUFFER',
  0x98: 'READONLY_BUFFER',
  0x53: 'STRING',
  0x56: 'UNICODE',
};

function toIntValue(v: bigint): number | bigint {
  return v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v;
}

/** Decodes one pickle. `where` names the source in error messages. */
export function unpickle(data: Uint8Array, hooks: UnpickleHooks, where = 'pickle'): unknown {
  const dv = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const utf8 = new TextDecoder('utf-8');
  const stack: unknown[] = [];
  const marks: number[] = [];
  const memo = new Map<number, unknown>();
  let pos = 0;
  let opAt = 0;

  const fail = (detail: string): never => {
    throw new PickleError(`${where}: ${detail} (at byte ${opAt})`);
  };
  const need = (n: number): void => {
    if (n < 0 || pos + n > data.byteLength) fail(`truncated pickle: needs ${n} more bytes, ${data.byteLength - pos} left`);
  };
  const u8 = (): number => {
    need(1);
    return data[pos++]!;
  };
  const u16 = (): number => {
    need(2);
    const v = dv.getUint16(pos, true);
    pos += 2;
    return v;
  };
  const u32 = (): number => {
    need(4);
    const v = dv.getUint32(pos, true);
    pos += 4;
    return v;
  };
  const i32 = (): number => {
    need(4);
    const v = dv.getInt32(pos, true);
    pos += 4;
    return v;
  };
  const u64 = (): number => {
    need(8);
    const v = dv.getBigUint64(pos, true);
    pos += 8;
    if (v > BigInt(Number.MAX_SAFE_INTEGER)) fail(`length ${v} is too large`);
    return Number(v);
  };
  const bytes = (n: number): Uint8Array => {
    need(n);
    const b = data.subarray(pos, pos + n);
    pos += n;
    return b;
  };
  const line = (): string => {
    const end = data.indexOf(0x0a, pos);
    if (end < 0) fail('truncated pickle: missing end of line');
    const s = utf8.decode(data.subarray(pos, end));
    pos = end + 1;
    return s;
  };
  const pop = (): unknown => {
    if (stack.length === 0 || (marks.length > 0 && stack.length <= marks[marks.length - 1]!)) fail('stack underflow');
    return stack.pop();
  };
  const top = (): unknown => {
    if (stack.length === 0 || (marks.length > 0 && stack.length <= marks[marks.length - 1]!)) fail('stack underflow');
    return stack[stack.length - 1];
  };
  const popMark = (): unknown[] => {
    const m = marks.pop();
    if (m === undefined) fail('MARK expected');
    return stack.splice(m!);
  };
  const decodeLong = (b: Uint8Array): number | bigint => {
    if (b.length === 0) return 0;
    let v = 0n;
    for (let i = b.length - 1; i >= 0; i--) v = (v << 8n) | BigInt(b[i]!);
    if (b[b.length - 1]! & 0x80) v -= 1n << BigInt(8 * b.length);
    return toIntValue(v);
  };
  const dictOf = (v: unknown, op: string): Map<unknown, unknown> => {
    if (!(v instanceof Map)) fail(`${op} on a ${describe(v)}; only dicts accept items`);
    return v as Map<unknown, unknown>;
  };
  const listOf = (v: unknown, op: string): unknown[] => {
    if (!Array.isArray(v)) fail(`${op} on a ${describe(v)}; only lists accept appends`);
    return v as unknown[];
  };
  const setOf = (v: unknown): Set<unknown> => {
    if (!(v instanceof Set)) fail(`ADDITEMS on a ${describe(v)}`);
    return v as Set<unknown>;
  };

  for (;;) {
    opAt = pos;
    const op = u8();
    switch (op) {
      case 0x80: // PROTO
        if (u8() > 5) fail('pickle protocol newer than 5');
        break;
      case 0x95: // FRAME: a length prefix for buffering; the content follows inline.
        u64();
        break;
      case 0x2e: // STOP
        if (stack.length !== 1 || marks.length !== 0) fail(`STOP with ${stack.length} values on the stack`);
        return stack[0];
      case 0x28: // MARK
        marks.push(stack.length);
        break;
      case 0x30: // POP
        if (marks.length > 0 && stack.length === marks[marks.length - 1]) marks.pop();
        else pop();
        break;
      case 0x31: // POP_MARK
        popMark();
        break;
      case 0x32: // DUP
        stack.push(top());
        break;
      case 0x4e: // NONE
        stack.push(null);
        break;
      case 0x88: // NEWTRUE
        stack.push(true);
        break;
      case 0x89: // NEWFALSE
        stack.push(false);
        break;
      case 0x4a: // BININT
        stack.push(i32());
        break;
      case 0x4b: // BININT1
        stack.push(u8());
        break;
      case 0x4d: // BININT2
        stack.push(u16());
        break;
      case 0x8a: // LONG1
        stack.push(decodeLong(bytes(u8())));
        break;
      case 0x8b: {
        // LONG4
        const n = i32();
        if (n < 0) fail('negative LONG4 length');
        stack.push(decodeLong(bytes(n)));
        break;
      }
      case 0x49: {
        // INT (text): also encodes bools as 00/01 in protocol 0.
        const s = line();
        if (s === '00') stack.push(false);
        else if (s === '01') stack.push(true);
        else {
          if (!/^[-+]?\d+$/.test(s)) fail(`bad INT literal ${JSON.stringify(s)}`);
          stack.push(toIntValue(BigInt(s)));
        }
        break;
      }
      case 0x4c: {
        // LONG (text)
        const s = line().replace(/L$/, '');
        if (!/^[-+]?\d+$/.test(s)) fail(`bad LONG literal ${JSON.stringify(s)}`);
        stack.push(toIntValue(BigInt(s)));
        break;
      }
      case 0x47: // BINFLOAT: big-endian double
        need(8);
        stack.push(dv.getFloat64(pos, false));
        pos += 8;
        break;
      case 0x46: {
        // FLOAT (text)
        const s = line();
        const v = Number(s);
        if (s.trim() === '' || (Number.isNaN(v) && !/nan/i.test(s))) fail(`bad FLOAT literal ${JSON.stringify(s)}`);
        stack.push(v);
        break;
      }
      case 0x58: // BINUNICODE
        stack.push(utf8.decode(bytes(u32())));
        break;
      case 0x8c: // SHORT_BINUNICODE
        stack.push(utf8.decode(bytes(u8())));
        break;
      case 0x8d: // BINUNICODE8
        stack.push(utf8.decode(bytes(u64())));
        break;
      case 0x54: {
        // BINSTRING (Python 2 str; torch.load decodes these as UTF-8)
        const n = i32();
        if (n < 0) fail('negative BINSTRING length');
        stack.push(utf8.decode(bytes(n)));
        break;
      }
      case 0x55: // SHORT_BINSTRING
        stack.push(utf8.decode(bytes(u8())));
        break;
      case 0x42: // BINBYTES
        stack.push(bytes(u32()).slice());
        break;
      case 0x43: // SHORT_BINBYTES
        stack.push(bytes(u8()).slice());
        break;
      case 0x8e: // BINBYTES8
      case 0x96: // BYTEARRAY8
        stack.push(bytes(u64()).slice());
        break;
      case 0x29: // EMPTY_TUPLE
        stack.push(new PyTuple([]));
        break;
      case 0x85: // TUPLE1
        stack.push(new PyTuple([pop()]));
        break;
      case 0x86: {
        // TUPLE2
        const b = pop();
        const a = pop();
        stack.push(new PyTuple([a, b]));
        break;
      }
      case 0x87: {
        // TUPLE3
        const c = pop();
        const b = pop();
        const a = pop();
        stack.push(new PyTuple([a, b, c]));
        break;
      }
      case 0x74: // TUPLE
        stack.push(new PyTuple(popMark()));
        break;
      case 0x5d: // EMPTY_LIST
        stack.push([]);
        break;
      case 0x6c: // LIST
        stack.push(popMark());
        break;
      case 0x61: {
        // APPEND
        const v = pop();
        listOf(top(), 'APPEND').push(v);
        break;
      }
      case 0x65: {
        // APPENDS
        const items = popMark();
        listOf(top(), 'APPENDS').push(...items);
        break;
      }
      case 0x7d: // EMPTY_DICT
        stack.push(new Map());
        break;
      case 0x64: {
        // DICT
        const items = popMark();
        if (items.length % 2 !== 0) fail('DICT with an odd number of items');
        const m = new Map<unknown, unknown>();
        for (let i = 0; i < items.length; i += 2) m.set(items[i], items[i + 1]);
        stack.push(m);
        break;
      }
      case 0x73: {
        // SETITEM
        const v = pop();
        const k = pop();
        dictOf(top(), 'SETITEM').set(k, v);
        break;
      }
      case 0x75: {
        // SETITEMS
        const items = popMark();
        if (items.length % 2 !== 0) fail('SETITEMS with an odd number of items');
        const m = dictOf(top(), 'SETITEMS');
        for (let i = 0; i < items.length; i += 2) m.set(items[i], items[i + 1]);
        break;
      }
      case 0x8f: // EMPTY_SET
        stack.push(new Set());
        break;
      case 0x90: {
        // ADDITEMS
        const items = popMark();
        const s = setOf(top());
        for (const it of items) s.add(it);
        break;
      }
      case 0x91: // FROZENSET
        stack.push(new Set(popMark()));
        break;
      case 0x71: // BINPUT
        memo.set(u8(), top());
        break;
      case 0x72: // LONG_BINPUT
        memo.set(u32(), top());
        break;
      case 0x70: {
        // PUT (text)
        const s = line();
        if (!/^\d+$/.test(s)) fail(`bad PUT index ${JSON.stringify(s)}`);
        memo.set(Number(s), top());
        break;
      }
      case 0x94: // MEMOIZE
        memo.set(memo.size, top());
        break;
      case 0x68: // BINGET
      case 0x6a: // LONG_BINGET
      case 0x67: {
        // GET (text)
        let idx: number;
        if (op === 0x68) idx = u8();
        else if (op === 0x6a) idx = u32();
        else {
          const s = line();
          if (!/^\d+$/.test(s)) fail(`bad GET index ${JSON.stringify(s)}`);
          idx = Number(s);
        }
        if (!memo.has(idx)) fail(`memo entry ${idx} is not defined`);
        stack.push(memo.get(idx));
        break;
      }
      case 0x63: {
        // GLOBAL: "module\nname\n"
        const module = line();
        const name = line();
        stack.push(hooks.global(module, name));
        break;
      }
      case 0x93: {
        // STACK_GLOBAL
        const name = pop();
        const module = pop();
        if (typeof module !== 'string' || typeof name !== 'string') fail('STACK_GLOBAL needs two strings');
        stack.push(hooks.global(module as string, name as string));
        break;
      }
      case 0x52: {
        // REDUCE
        const args = pop();
        const fn = pop();
        if (!(args instanceof PyTuple)) fail(`REDUCE arguments must be a tuple, got a ${describe(args)}`);
        stack.push(hooks.reduce(fn, args as PyTuple));
        break;
      }
      case 0x62: {
        // BUILD
        const state = pop();
        const obj = pop();
        stack.push(hooks.build(obj, state));
        break;
      }
      case 0x51: // BINPERSID
        stack.push(hooks.persistentLoad(pop()));
        break;
      case 0x50: // PERSID (text)
        stack.push(hooks.persistentLoad(line()));
        break;
      default: {
        const name = OPNAMES[op];
        fail(
          name
            ? `pickle opcode ${name} is refused by the weights-only reader (it can construct arbitrary objects or is not used by torch.save)`
            : `unknown pickle opcode 0x${op.toString(16).padStart(2, '0')}`,
        );
      }
    }
  }
}

/** Short description of a pickle value for messages. */
export function describe(v: unknown): string {
  if (v === null) return 'None';
  if (Array.isArray(v)) return 'list';
  if (v instanceof PyTuple) return 'tuple';
  if (v instanceof Map) return 'dict';
  if (v instanceof Set) return 'set';
  if (v instanceof Uint8Array) return 'bytes';
  if (typeof v === 'object') return (v as object).constructor?.name ?? 'object';
  return typeof v;
}
