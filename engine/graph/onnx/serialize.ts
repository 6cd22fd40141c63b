// Emits a recorded graph as an ONNX ModelProto (onnx-buf, current schema).
// - Only the nodes that the outputs need are emitted (dead code is dropped).
// - Composite nodes are replaced by their primitive lowering where the fused kernel is missing
//   (for example float64 on CPU), so gradient checks can run every op in float64.
// - Initializers are inline (raw_data) or external ({location, offset, length}), so a model can point
//   straight into a safetensors file or a weights file next to it.
import { create, toBinary } from '@bufbuild/protobuf';
import type { AttributeProto, ModelProto, NodeProto, TensorProto, ValueInfoProto } from 'onnx-buf';
import {
  AttributeProtoSchema,
  AttributeProto_AttributeType as AT,
  GraphProtoSchema,
  ModelProtoSchema,
  NodeProtoSchema,
  OperatorSetIdProtoSchema,
  StringStringEntryProtoSchema,
  TensorProtoSchema,
  TensorProto_DataLocation,
  TensorShapeProtoSchema,
  TensorShapeProto_DimensionSchema,
  TypeProtoSchema,
  TypeProto_TensorSchema,
  ValueInfoProtoSchema,
} from 'onnx-buf';
import type { Attr, Graph, InitializerData, Node, Tensor } from '../graph.js';
import { ONNX_DTYPE } from '../dtype.js';
import { GraphBuildError } from '../errors.js';

export const OPSET = 23;
export const IR_VERSION = 10n;

export interface SerializeOptions {
  /** Defaults to the graph's declared outputs. */
  outputs?: readonly Tensor[];
  /** Lower composite nodes even where a fused kernel exists (tests use this to check lowerings). */
  forceLowering?: boolean;
  /** Rewrites initializers as they are emitted (saveModel uses it to move large ones to a file). */
  mapInitializer?: (t: Tensor, data: InitializerData) => InitializerData;
}

function valueInfo(t: Tensor): ValueInfoProto {
  return create(ValueInfoProtoSchema, {
    name: t.name,
    type: create(TypeProtoSchema, {
      value: {
        case: 'tensorType',
        value: create(TypeProto_TensorSchema, {
          elemType: ONNX_DTYPE[t.dtype],
          shape: create(TensorShapeProtoSchema, {
            dim: t.shape.map((d) => create(TensorShapeProto_DimensionSchema, { value: { case: 'dimValue', value: BigInt(d) } })),
          }),
        }),
      },
    }),
  });
}

function attrProto(name: string, a: Attr): AttributeProto {
  switch (a.kind) {
    case 'int':
      return create(AttributeProtoSchema, { name, type: AT.INT, i: BigInt(Math.trunc(a.value)) });
    case 'float':
      return create(AttributeProtoSchema, { name, type: AT.FLOAT, f: a.value });
    case 'ints':
      return create(AttributeProtoSchema, { name, type: AT.INTS, ints: a.value.map((v) => BigInt(Math.trunc(v))) });
    case 'floats':
      return create(AttributeProtoSchema, { name, type: AT.FLOATS, floats: [...a.value] });
    case 'string':
      return create(AttributeProtoSchema, { name, type: AT.STRING, s: new TextEncoder().encode(a.value) });
  }
}

export function tensorProto(t: Tensor, data: InitializerData): TensorProto {
  const base = { name: t.name, dataType: ONNX_DTYPE[t.dtype], dims: t.shape.map((d) => BigInt(d)) };
  if (data.kind === 'inline') {
    const bytes = new Uint8Array(data.data.buffer as ArrayBuffer, data.data.byteOffset, data.data.byteLength);
    return create(TensorProtoSchema, { ...base, rawData: bytes });
  }
  const entry = (key: string, value: string) => create(StringStringEntryProtoSchema, { key, value });
  return create(TensorProtoSchema, {
    ...base,
    dataLocation: TensorProto_DataLocation.EXTERNAL,
    externalData: [entry('location', data.location), entry('offset', String(data.offset)), entry('length', String(data.length))],
  });
}

function nodeProto(n: Node): NodeProto {
  return create(NodeProtoSchema, {
    name: n.name,
    opType: n.opType,
    domain: n.domain,
    input: n.inputs.map((t) => (t ? t.name : '')),
    output: n.outputs.map((t) => t.name),
    attribute: Object.entries(n.attrs).map(([k, v]) => attrProto(k, v)),
  });
}

/** The nodes needed to compute `outputs`, in topological order, with composites lowered where needed. */
export function emitNodes(g: Graph, outputs: readonly Tensor[], forceLowering = false): Node[] {
  const needed = new Set<number>();
  const stack = [...outputs];
  while (stack.length) {
    const t = stack.pop()!;
    const p = t.producer;
    if (!p || needed.has(p.id)) continue;
    needed.add(p.id);
    for (const i of p.inputs) if (i) stack.push(i);
  }
  const out: Node[] = [];
  const emit = (n: Node): void => {
    if (n.lowering && (forceLowering || n.lowering.when(n))) {
      const { result, nodes } = g.record(() => n.lowering!.build(n.inputs, n));
      if (result.length !== n.outputs.length) throw new GraphBuildError(n.opType, `lowering returned ${result.length} outputs, node has ${n.outputs.length}`);
      for (const inner of nodes) emit(inner);
      result.forEach((r, i) => out.push(identityNode(g, r, n.outputs[i]!)));
    } else out.push(n);
  };
  // The main node list is already topological; recorded lowerings are emitted in place.
  for (const n of g.nodes) if (needed.has(n.id)) emit(n);
  return out;
}

let identityCounter = 0;
function identityNode(_g: Graph, from: Tensor, to: Tensor): Node {
  // A plain object with Node's shape is enough for emission; it never enters the graph's node list.
  return { id: -1, opType: 'Identity', domain: '', inputs: [from], outputs: [to], attrs: {}, name: `lowered_${identityCounter++}_${to.name}`, lowering: null } as unknown as Node;
}

export function toModelProto(g: Graph, opts: SerializeOptions = {}): ModelProto {
  const outputs = opts.outputs ?? g.outputs;
  if (outputs.length === 0) throw new GraphBuildError('serialize', `graph "${g.name}" has no outputs`);
  const nodes = emitNodes(g, outputs, opts.forceLowering);
  const used = new Set<Tensor>();
  for (const n of nodes) for (const t of n.inputs) if (t && t.kind === 'initializer') used.add(t);
  for (const t of outputs) if (t.kind === 'initializer') used.add(t);
  const initializer: TensorProto[] = [];
  for (const t of used) {
    const data = g.initializers.get(t)!;
    initializer.push(tensorProto(t, opts.mapInitializer ? opts.mapInitializer(t, data) : data));
  }
  const graph = create(GraphProtoSchema, {
    name: g.name,
    node: nodes.map(nodeProto),
    input: g.inputs.map(valueInfo),
    output: outputs.map(valueInfo),
    initializer,
  });
  return create(ModelProtoSchema, {
    irVersion: IR_VERSION,
    producerName: 'refree-studio',
    producerVersion: '0.1.0',
    opsetImport: [create(OperatorSetIdProtoSchema, { domain: '', version: BigInt(OPSET) }), create(OperatorSetIdProtoSchema, { domain: 'com.microsoft', version: 1n })],
    graph,
  });
}

export function serialize(g: Graph, opts: SerializeOptions = {}): Uint8Array {
  return toBinary(ModelProtoSchema, toModelProto(g, opts));
}
