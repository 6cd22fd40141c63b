// A parameter inventory: every weight a component expects, by its official checkpoint name, with its
// shape. It drives parameter counts (`refree models describe`) and key checking when weights load.
export interface ParamSpec {
  name: string;
  shape: readonly number[];
}

export function countParams(specs: readonly ParamSpec[]): number {
  return specs.reduce((sum, p) => sum + p.shape.reduce((a, b) => a * b, 1), 0);
}

/** Helper for PyTorch Linear layers: weight [out, in] and optional bias [out]. */
export function linearParams(prefix: string, inF: number, outF: number, bias = true): ParamSpec[] {
  const w: ParamSpec = { name: `${prefix}.weight`, shape: [outF, inF] };
  return bias ? [w, { name: `${prefix}.bias`, shape: [outF] }] : [w];
}
