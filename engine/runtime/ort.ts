// The one place that imports onnxruntime-node, so that a missing or broken native binding is
// reported once, with a sentence that says what to do.
import { createRequire } from 'node:module';
import type * as OrtTypes from 'onnxruntime-node';

export type Ort = typeof OrtTypes;
let cached: Ort | null = null;

export function ort(): Ort {
  if (cached) return cached;
  const require = createRequire(import.meta.url);
  try {
    cached = require('onnxruntime-node') as Ort;
  } catch (e) {
    throw new Error(`onnxruntime-node could not be loaded (${(e as Error).message.split('\n')[0]}). Run "npm ci" again; on Linux x64 it needs glibc 2.28 or newer.`, { cause: e });
  }
  return cached;
}
