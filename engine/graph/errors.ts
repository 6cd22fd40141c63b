// Errors raised while a graph is being built. They name the op, the shapes involved and the code that
// asked for the op, so a wrong-shaped model fails at build time with a sentence a person can act on.

const GRAPH_DIR = /[\\/]engine[\\/]graph[\\/]/;

/** The first stack frame outside engine/graph: the model code that called the op. */
export function callerFrame(): string {
  const limit = Error.stackTraceLimit;
  Error.stackTraceLimit = 40;
  const stack = new Error().stack?.split('\n').slice(1) ?? [];
  Error.stackTraceLimit = limit;
  for (const line of stack) {
    const frame = line.trim().replace(/^at\s+/, '');
    const inGraph = GRAPH_DIR.test(frame) && !/\.test\.ts\b/.test(frame);
    if (!inGraph && !/(^|\()node:/.test(frame) && !frame.includes('node_modules') && !/\(<anonymous>\)$|^<anonymous>$/.test(frame)) return frame;
  }
  return stack[0]?.trim().replace(/^at\s+/, '') ?? 'unknown caller';
}

export function fmtShape(shape: readonly number[]): string {
  return `[${shape.join(',')}]`;
}

export class GraphBuildError extends Error {
  readonly op: string;
  readonly caller: string;
  constructor(op: string, detail: string, caller = callerFrame()) {
    super(`${op}: ${detail} (called from ${caller})`);
    this.name = 'GraphBuildError';
    this.op = op;
    this.caller = caller;
  }
}

/** Shape mismatch: lists every input shape so the message alone explains the failure. */
export class ShapeError extends GraphBuildError {
  readonly shapes: readonly (readonly number[])[];
  constructor(op: string, shapes: readonly (readonly number[])[], detail: string) {
    super(op, `${detail}; input shapes ${shapes.map(fmtShape).join(' and ')}`);
    this.name = 'ShapeError';
    this.shapes = shapes;
  }
}
