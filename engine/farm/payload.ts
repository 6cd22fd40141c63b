// What a farm job carries in Redis: the local export job's parameters (GenerateJobParams, the same
// object the studio's queue hands studio.generate) with every path made relative to the shared folder,
// plus the control a person set on it (pause, cancel). Checked with zod on both sides (submit and
// worker) with the studio's own limits, and turned back into GenerateJobParams on the worker, so the
// farm runs exactly the local export job.
import { z } from 'zod';
import { GenerationSettingsSchema } from '../jobs/generation-settings.js';
import type { GenerateJobParams } from '../jobs/studio-jobs.js';
import { fromSharedPath, toSharedPath } from './shared-folder.js';

export const FARM_PAYLOAD_FORMAT = 'refree-farm-export/1';

const rel = z.string().min(1, 'a path is required').max(4096, 'the path is too long');


export const FarmPayloadSchema = z.strictObject({
  format: z.literal(FARM_PAYLOAD_FORMAT),
  title: z.string().min(1).max(300),
  params: z.strictObject({
    mode: z.literal('export'),
    portrait: z.strictObject({ path: rel, crop: z.strictObject({ x: z.number().int().min(0), y: z.number().int().min(0), size: z.number().int().min(8) }).nullable() }),
    audio: z.strictObject({
      path: rel,
      trim: z
        .strictObject({ start: z.number().min(0), end: z.number().positive() })
        .refine((t) => t.end > t.start, { message: 'the trim end must come after its start' })
        .nullable(),
    }),
    settings: GenerationSettingsSchema,
    seconds: z.null(),
    output: rel.refine((p) => /\.(mp4|webm)$/i.test(p), { message: 'the output must end in .mp4 or .webm' }),
    watermark: z.strictObject({ visible: z.boolean(), text: z.string().min(1).max(80), position: z.enum(['top-left', 'top-right', 'bottom-left', 'bottom-right']) }),
    /** Model package folder relative to the shared folder; null: the pipeline's built-in demo model. */
    modelPath: rel.nullable(),
  }),
  /** Set by pause/cancel; a worker reads it while the job runs and before it starts one. */
  control: z.enum(['pause', 'cancel']).nullable(),
  /** Machine that submitted it (shown on the queue screen). */
  submittedFrom: z.string().max(200),
});
export type FarmPayload = z.infer<typeof FarmPayloadSchema>;

// The payload's params are GenerateJobParams with relative paths: a compile error here means the
// local job changed and the farm must follow.
type Params = FarmPayload['params'];
type SameKeys<A, B> = [keyof A] extends [keyof B] ? ([keyof B] extends [keyof A] ? true : false) : false;
const sameKeys: SameKeys<Params, GenerateJobParams> = true;
void sameKeys;

export class FarmPayloadError extends Error {
  override name = 'FarmPayloadError';
}

/** Parses a payload, with one sentence naming the first field that is wrong. */
export function parsePayload(v: unknown): FarmPayload {
  const r = FarmPayloadSchema.safeParse(v);
  if (r.success) return r.data;
  const issue = r.error.issues[0]!;
  throw new FarmPayloadError(`The farm job is not valid: ${issue.path.length ? `${issue.path.join('.')}: ` : ''}${issue.message}.`);
}

/** Submit side: a local export job's parameters → a payload with shared-folder paths (throws FarmPathError). */
export function toPayload(root: string, params: GenerateJobParams, title: string, submittedFrom: string): FarmPayload {
  if (params.mode !== 'export') throw new FarmPayloadError('Only exports run on the render farm; previews run on this machine.');
  const payload: FarmPayload = {
    format: FARM_PAYLOAD_FORMAT,
    title,
    params: {
      mode: 'export',
      portrait: { path: toSharedPath(root, params.portrait.path, 'The portrait'), crop: params.portrait.crop },
      audio: { path: toSharedPath(root, params.audio.path, 'The speech'), trim: params.audio.trim },
      settings: params.settings as FarmPayload['params']['settings'],
      seconds: null,
      output: toSharedPath(root, params.output, 'The output'),
      watermark: params.watermark as FarmPayload['params']['watermark'],
      modelPath: params.modelPath ? toSharedPath(root, params.modelPath, 'The model package') : null,
    },
    control: null,
    submittedFrom,
  };
  return parsePayload(payload);
}

/** Worker side: the payload's params with this machine's absolute paths (throws FarmPathError). */
export function toJobParams(root: string, p: FarmPayload): GenerateJobParams {
  const q = p.params;
  return {
    mode: 'export',
    portrait: { path: fromSharedPath(root, q.portrait.path, 'The portrait'), crop: q.portrait.crop },
    audio: { path: fromSharedPath(root, q.audio.path, 'The speech'), trim: q.audio.trim },
    settings: q.settings,
    seconds: null,
    output: fromSharedPath(root, q.output, 'The output'),
    watermark: q.watermark,
    modelPath: q.modelPath === null ? null : fromSharedPath(root, q.modelPath, 'The model package'),
  };
}
