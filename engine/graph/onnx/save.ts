// Writes a model to disk with its large initializers in one external data file beside it
// (ORT resolves `location` relative to the .onnx file). Models over 2 GB must be saved this way.
import { closeSync, openSync, writeSync, writeFileSync, fsyncSync, renameSync } from 'node:fs';
import path from 'node:path';
import type { Graph, InitializerData, Tensor } from '../graph.js';
import { serialize } from './serialize.js';
import type { SerializeOptions } from './serialize.js';

export interface SaveOptions extends SerializeOptions {
  /** Initializers at least this large (bytes) go to `<model>.data`; default 1 MiB. */
  externalThreshold?: number;
}

export interface SavedModel {
  modelPath: string;
  dataPath: string | null;
  externalBytes: number;
}

export function saveModel(g: Graph, modelPath: string, opts: SaveOptions = {}): SavedModel {
  const threshold = opts.externalThreshold ?? 1 << 20;
  const dataName = `${path.basename(modelPath)}.data`;
  const dataPath = path.join(path.dirname(modelPath), dataName);
  let fd: number | null = null;
  let offset = 0;
  const mapInitializer = (t: Tensor, data: InitializerData): InitializerData => {
    if (data.kind !== 'inline' || data.data.byteLength < threshold) return data;
    if (fd === null) fd = openSync(`${dataPath}.tmp`, 'w');
    // 64-byte alignment lets ORT memory-map the file.
    const pad = (64 - (offset % 64)) % 64;
    if (pad) writeSync(fd, new Uint8Array(pad));
    offset += pad;
    const bytes = new Uint8Array(data.data.buffer, data.data.byteOffset, data.data.byteLength);
    writeSync(fd, bytes);
    const ref: InitializerData = { kind: 'external', location: dataName, offset, length: bytes.byteLength };
    offset += bytes.byteLength;
    void t;
    return ref;
  };
  const bytes = serialize(g, { ...opts, mapInitializer });
  if (fd !== null) {
    fsyncSync(fd);
    closeSync(fd);
    renameSync(`${dataPath}.tmp`, dataPath);
  }
  writeFileSync(`${modelPath}.tmp`, bytes);
  renameSync(`${modelPath}.tmp`, modelPath);
  return { modelPath, dataPath: fd !== null ? dataPath : null, externalBytes: offset };
}
