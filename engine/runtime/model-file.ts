// Reading an .onnx file before ORT sees it: its inputs/outputs (so callers can feed typed arrays) and
// a check that every external-data file it points to exists and is long enough. ORT's own message
// for a missing or short weights file is vague and, for a 10 GB model, comes after a long wait; ours
// names the file's absolute path and the initializer, at once.
import { fromBinary } from '@bufbuild/protobuf';
import { readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import type { GraphProto, ModelProto, TensorProto, ValueInfoProto } from 'onnx-buf';
import { ModelProtoSchema, TensorProto_DataLocation } from 'onnx-buf';
import type { DType } from '../graph/dtype.js';
import { BYTES_PER_ELEMENT, ONNX_DTYPE } from '../graph/dtype.js';
import type { IoSpec } from './session.js';

const DTYPE_OF_ONNX = new Map<number, DType>(Object.entries(ONNX_DTYPE).map(([k, v]) => [v as number, k as DType]));

export function readModelProto(modelPath: string): ModelProto {
  // Weights of large models are external, so the .onnx itself is small enough to read whole.
  return fromBinary(ModelProtoSchema, readFileSync(modelPath));
}

export function parseModel(bytes: Uint8Array): ModelProto {
  return fromBinary(ModelProtoSchema, bytes);
}

function ioSpec(v: ValueInfoProto): IoSpec {
  const t = v.type?.value;
  if (!t || t.case !== 'tensorType') throw new Error(`model input/output "${v.name}" is not a tensor`);
  const elem = t.value.elemType;
  const dtype = DTYPE_OF_ONNX.get(elem);
  if (!dtype) throw new Error(`model input/output "${v.name}" has ONNX element type ${elem}, which the engine cannot feed (bf16 and strings are not supported in onnxruntime-node)`);
  // A symbolic dimension becomes -1; ReFree's own graphs are static-shaped (shape buckets).
  const shape = (t.value.shape?.dim ?? []).map((d) => (d.value.case === 'dimValue' ? Number(d.value.value) : -1));
  return { name: v.name, dtype, shape };
}

/** The graph inputs that are not initializers, and the outputs, as the engine's I/O specs. */
export function modelIo(model: ModelProto): { inputs: IoSpec[]; outputs: IoSpec[] } {
  const g = model.graph;
  if (!g) throw new Error('the ONNX file has no graph');
  const inits = new Set(g.initializer.map((t) => t.name));
  return { inputs: g.input.filter((v) => !inits.has(v.name)).map(ioSpec), outputs: g.output.map(ioSpec) };
}

export interface ExternalRef {
  initializer: string;
  /** Absolute path of the data file, resolved against the model's folder as ORT does. */
  file: string;
  offset: number;
  /** Bytes the initializer needs; from `length`, or from dims × element size when absent. */
  length: number;
}

function tensorBytes(t: TensorProto): number {
  const dtype = DTYPE_OF_ONNX.get(t.dataType);
  const count = t.dims.reduce((a, d) => a * Number(d), 1);
  return dtype ? count * BYTES_PER_ELEMENT[dtype] : 0;
}

function* graphTensors(g: GraphProto): Generator<TensorProto> {
  yield* g.initializer;
  // Subgraphs (If/Loop/Scan bodies) and Constant nodes can hold external tensors too.
  for (const n of g.node) {
    for (const a of n.attribute) {
      if (a.t) yield a.t;
      yield* a.tensors;
      if (a.g) yield* graphTensors(a.g);
      for (const sub of a.graphs) yield* graphTensors(sub);
    }
  }
}

export function externalRefs(model: ModelProto, modelPath: string): ExternalRef[] {
  const dir = path.dirname(path.resolve(modelPath));
  const refs: ExternalRef[] = [];
  if (!model.graph) return refs;
  for (const t of graphTensors(model.graph)) {
    if (t.dataLocation !== TensorProto_DataLocation.EXTERNAL) continue;
    const kv = new Map(t.externalData.map((e) => [e.key, e.value]));
    const location = kv.get('location');
    if (!location) throw new ExternalDataError(`initializer "${t.name}" in ${path.resolve(modelPath)} is marked external but has no location`);
    const offset = Number(kv.get('offset') ?? 0);
    const length = kv.has('length') ? Number(kv.get('length')) : tensorBytes(t);
    refs.push({ initializer: t.name, file: path.resolve(dir, location), offset, length });
  }
  return refs;
}

export class ExternalDataError extends Error {
  override name = 'ExternalDataError';
}

/**
 * Throws ExternalDataError naming the absolute path of the first missing or too-short data file and
 * the initializer that needs it (with how many more initializers share the problem). Returns the
 * refs (callers use the total size to budget memory and to key caches).
 */
export function checkExternalData(modelPath: string, model: ModelProto = readModelProto(modelPath)): ExternalRef[] {
  const refs = externalRefs(model, modelPath);
  const sizes = new Map<string, number | null>();
  const sizeOf = (file: string): number | null => {
    if (!sizes.has(file)) {
      try {
        const st = statSync(file);
        sizes.set(file, st.isFile() ? st.size : null);
      } catch {
        sizes.set(file, null);
      }
    }
    return sizes.get(file)!;
  };
  const problems: string[] = [];
  for (const r of refs) {
    const size = sizeOf(r.file);
    if (size === null) problems.push(`external data file ${r.file} is missing (initializer "${r.initializer}" needs ${r.length} bytes at offset ${r.offset})`);
    else if (r.offset + r.length > size)
      problems.push(`external data file ${r.file} is too short: ${size} bytes, but initializer "${r.initializer}" needs bytes ${r.offset}..${r.offset + r.length} (the file is truncated or belongs to another model)`);
  }
  if (problems.length) {
    const more = problems.length > 1 ? ` (and ${problems.length - 1} more problem${problems.length > 2 ? 's' : ''} with external data)` : '';
    throw new ExternalDataError(`cannot open model ${path.resolve(modelPath)}: ${problems[0]}${more}. Download or save the model again.`);
  }
  return refs;
}
