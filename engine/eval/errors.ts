// Problems evaluation reports as one sentence a person can act on; `code` lets callers branch.
// File-reading problems keep their own classes (VideoReadError, MediaError), which already name the file.
export type EvalErrorCode = 'no-audio' | 'no-face' | 'few-faces' | 'bad-truth' | 'too-short' | 'no-clips';

export class EvalError extends Error {
  override name = 'EvalError';
  constructor(
    readonly code: EvalErrorCode,
    message: string,
  ) {
    super(message);
  }
}
