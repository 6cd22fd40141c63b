// The studio's service contract (DESIGN 10): ONE map of methods (name → zod input schema + output
// type) and ONE map of events (name → payload type). Both hosts implement it — Electron IPC and the web
// host (HTTP + WebSocket) — and the renderer calls it through either. Inputs are validated with these
// schemas at the boundary (service.ts `dispatch`), whatever the transport. Errors are `{code,
// message}` (errors.ts). No Node imports: the renderer imports this file's types.
//
// Paths are absolute paths on the machine that runs the engine; media reach the renderer as `url`s
// under `/media/<root>/<path>` that each host serves from its allowed roots only.
import { z } from 'zod';
import type { FarmJobView } from '../farm/job-view.js';
import type { JobRecord } from '../jobs/job-types.js';
import { JOB_KINDS } from '../jobs/job-types.js';
import type { GenerationSettings } from '../jobs/generation-settings.js';
import { GenerationSettingsSchema } from '../jobs/generation-settings.js';
import type { ErrorInfo } from '../common/service-error.js';

// ---------------------------------------------------------------------------------------------------
// Shared value schemas

/** POSIX "/…", Windows "C:\…" or "\\server\share": a relative path would resolve against the server's working folder. */
export const ABSOLUTE_PATH = /^(?:\/|[A-Za-z]:[\\/]|\\\\)/;
const absPath = z
  .string()
  .min(1, 'a path is required')
  .max(4096, 'the path is too long')
  .refine((p) => ABSOLUTE_PATH.test(p), { message: 'give the full path (starting with / or a drive letter); a relative path is not accepted' })
  .refine((p) => !p.includes('\0'), { message: 'the path contains a NUL character' });
const projectName = z.string().trim().min(1, 'give the project a name').max(200, 'the name is too long (200 characters at most)');
const id = z.string().regex(/^[a-z0-9][a-z0-9-]{0,63}$/, 'expected an id of lower-case letters, digits and dashes');

/** A square crop in the portrait's pixel coordinates (engine/media/face-crop.ts CropBox). */
export const CropBoxSchema = z.strictObject({
  x: z.number().int().min(0),
  y: z.number().int().min(0),
  size: z.number().int().min(8, 'the crop must be at least 8 pixels wide'),
});

/** Seconds into the speech; end > start. */
export const TrimSchema = z
  .strictObject({ start: z.number().min(0), end: z.number().positive() })
  .refine((t) => t.end > t.start, { message: 'the trim end must come after its start' });

export { GenerationSettingsSchema } from '../jobs/generation-settings.js';
export type { GenerationSettings } from '../jobs/generation-settings.js';

/** A new project's settings: the built-in model's own sampler settings (its generation.json; checked by a test). */
export const DEFAULT_GENERATION: GenerationSettings = { model: 'refree-mini', steps: 6, seed: 42, guidance: 2, width: 256, height: 256, fps: 15, sampler: 'euler' };

export const WatermarkOptionsSchema = z.strictObject({
  /** The visible label (DESIGN 7); metadata and the invisible mark are always written. */
  visible: z.boolean(),
  text: z.string().min(1).max(80),
  position: z.enum(['top-left', 'top-right', 'bottom-left', 'bottom-right']),
});
export type WatermarkOptions = z.infer<typeof WatermarkOptionsSchema>;

export const ProjectSchema = z.strictObject({
  version: z.literal(1),
  id,
  name: z.string().min(1).max(200),
  /** The project file (…/project.refree.json); its folder is an allowed media root. */
  path: absPath,
  portrait: z.strictObject({ path: absPath, crop: CropBoxSchema.nullable() }).nullable(),
  audio: z.strictObject({ path: absPath, trim: TrimSchema.nullable() }).nullable(),
  settings: GenerationSettingsSchema,
  updatedAt: z.string(),
});
export type Project = z.infer<typeof ProjectSchema>;

/** The render farm (engine/farm): where its Redis is and where this machine mounts its shared folder. Empty strings: not set up. */
export const FarmSettingsSchema = z.strictObject({
  redisUrl: z
    .string()
    .trim()
    .max(2000, 'the address is too long')
    .refine((u) => u === '' || /^rediss?:\/\/[^/\s]/.test(u), { message: 'write the Redis address as redis://host:6379 (or rediss://host:6380 for TLS)' }),
  password: z.string().max(1000, 'the password is too long'),
  tls: z.boolean(),
  sharedFolder: z.union([z.literal(''), absPath]),
});
export type FarmSettings = z.infer<typeof FarmSettingsSchema>;

export const SettingsSchema = z.strictObject({
  backend: z.enum(['auto', 'cuda', 'webgpu', 'cpu']),
  outputFolder: absPath,
  watermark: WatermarkOptionsSchema,
  theme: z.enum(['system', 'dark', 'light']),
  farm: FarmSettingsSchema,
});
export type Settings = z.infer<typeof SettingsSchema>;

// ---------------------------------------------------------------------------------------------------
// Outputs (types only: the service produces them, nobody parses them)

export interface MediaInfo {
  /** Absolute path of the registered copy (inside the project or data folder). */
  path: string;
  /** Where a host serves it: /media/<root>/<relative path> (null if outside every allowed root). */
  url: string | null;
  kind: 'image' | 'audio' | 'video';
  bytes: number;
  width: number | null;
  height: number | null;
  /** Seconds (audio, video). */
  duration: number | null;
  sampleRate: number | null;
  channels: number | null;
  /** Sentences about a file that was accepted but is not quite right (cut short, animated, silent). */
  warnings: string[];
}

/** One file of a project's media bin. */
export interface MediaBinEntry {
  path: string;
  url: string | null;
  kind: 'image' | 'audio';
  /** The name as imported (without the content-hash prefix). */
  name: string;
  bytes: number;
  addedAt: string;
  /** Whether the project currently uses it as its portrait or speech. */
  inUse: boolean;
}

/** media.verify: what `refree verify` finds in a video, for people. */
export interface WatermarkCheck {
  file: string;
  /** The invisible watermark was found (a payload that passed its check bits). */
  found: boolean;
  payload: string | null;
  confidence: number;
  /** The provenance metadata says AI-generated. */
  labelledAi: boolean;
  generator: string | null;
  model: string | null;
  jobId: string | null;
  frames: number;
  /** One sentence: what was found. */
  summary: string;
}

/** generate.summary: what an export of the project will be, before it is queued. */
export interface ExportSummary {
  width: number;
  height: number;
  fps: number;
  /** Seconds of speech after the trim; the video is as long. */
  seconds: number;
  frames: number;
  model: string;
  steps: number;
  /** From earlier exports on this machine (seconds per frame); null until one has finished. */
  estimatedSeconds: number | null;
  /** Where it will be written unless another file is chosen. */
  defaultOutput: string;
}

/** media.suggestCrop: where the crop box should start for a portrait (the person can then move it). */
export interface CropSuggestion {
  /** In the portrait's stored pixel coordinates (as MediaInfo width/height). */
  box: { x: number; y: number; size: number };
  faceFound: boolean;
  /** The detector's confidence for the face used (or the closest match when none passed); null when nothing was detected. */
  score: number | null;
  /** A sentence for the person (no face, several faces); absent when there is nothing to say. */
  warning?: string;
}

/** Largest decoded upload media.upload accepts (a few minutes of compressed speech is far less). */
export const MAX_UPLOAD_BYTES = 50 * 1024 * 1024;
/** Extensions media.upload accepts (what MediaRecorder produces, and common audio files). */
export const UPLOAD_AUDIO_EXTENSIONS = ['webm', 'ogg', 'wav', 'mp3', 'm4a', 'flac', 'aac', 'opus', 'mp4', 'mov'] as const;
/** Extensions a portrait may have (what the image reader decodes). */
export const UPLOAD_IMAGE_EXTENSIONS = ['png', 'jpg', 'jpeg', 'webp', 'gif', 'tif', 'tiff', 'avif', 'heic', 'heif'] as const;
/** Largest file the web host's streamed upload (/api/upload) accepts: a long WAV, a large photo. */
export const MAX_FILE_UPLOAD_BYTES = 512 * 1024 * 1024;

export interface JobView extends JobRecord {
  /** Media URLs for the output and the latest preview frame, when they lie under an allowed root. */
  outputUrl: string | null;
  previewUrl: string | null;
}

/** A render-farm job on the queue screen: the farm's view plus where its output is on this machine. */
export interface FarmJobRow extends FarmJobView {
  /** The output on this machine's mount of the shared folder. */
  outputPath: string;
}

/** farm.jobs: the farm's jobs, or why there are none to show. */
export interface FarmJobList {
  /** A Redis URL and a shared folder are set in Settings → Render farm. */
  configured: boolean;
  jobs: FarmJobRow[];
  /** One sentence when the farm cannot be reached (Redis down, wrong password); null otherwise. */
  problem: string | null;
}

/** farm.test: what the connection test found. */
export interface FarmTestResult {
  address: string;
  version: string;
  pingMs: number;
  sharedFolder: string;
  /** One sentence for people. */
  summary: string;
}

export interface ModelPackageInfo {
  name: string;
  /** Package folder. */
  path: string;
  architecture: string;
  builtIn: boolean;
  files: number;
  bytes: number;
}

export interface VerifyResult {
  ok: boolean;
  name: string;
  /** "<file>: <problem>" for every problem found. */
  problems: string[];
  checkedBytes: number;
  seconds: number;
}

export interface BackendInfo {
  backend: 'cuda' | 'webgpu' | 'cpu';
  usable: boolean;
  reason: string | null;
}

export interface DeviceInfo {
  /** Null until the engine has probed its backends (the probe runs when the engine is free). */
  backends: BackendInfo[] | null;
  backendsNote: string | null;
  gpus: { name: string; memoryTotalMiB: number; memoryUsedMiB: number }[];
  /** Why `gpus` is empty, one line. */
  gpuNote: string | null;
  engine: { state: EngineState; pid: number | null };
}

export type EngineState = 'stopped' | 'starting' | 'ready' | 'busy' | 'crashed';

export interface Health {
  ok: true;
  version: string;
  engine: EngineState;
}

/** One check of a training clip, in words. */
export interface ClipCheck {
  ok: boolean;
  /** What was found ("a face in 3 of 3 frames", "4.2 s", "30 fps"). */
  detail: string;
}

/** A video of a training session, with the checks it passed or failed as it arrived. */
export interface TrainingClip {
  /** File name inside the session (unique). */
  name: string;
  path: string;
  url: string | null;
  thumbnailUrl: string | null;
  seconds: number | null;
  fps: number | null;
  width: number | null;
  height: number | null;
  accepted: boolean;
  /** Kept out of training to compare before and after on. */
  heldOut: boolean;
  checks: { face: ClipCheck; speech: ClipCheck; length: ClipCheck; fps: ClipCheck };
  /** Why it is not used (a sentence), and what to do about it; null when accepted. */
  reason: string | null;
  fix: string | null;
}

export interface TrainingStageInfo {
  jobId: string | null;
  /** The run folder (checkpoints, metrics.jsonl, samples, adapter). */
  run: string;
  settings: Record<string, unknown>;
  /** The queue job's state (null when its job was removed from the queue). */
  state: 'queued' | 'running' | 'paused' | 'done' | 'failed' | 'cancelled' | null;
  /** A finished adapter exists in the run folder. */
  finished: boolean;
}

export interface TrainingSession {
  id: string;
  name: string;
  /** Base model package name. */
  model: string;
  createdAt: string;
  folder: string;
  clips: TrainingClip[];
  sft: TrainingStageInfo | null;
  dpo: TrainingStageInfo | null;
  /** The model package it was saved as, once saved. */
  savedAs: string | null;
}

export interface TrainingEstimate {
  peakBytes: number;
  secondsPerStep: number;
  totalSeconds: number;
  /** Memory of the device it will run on (GPU memory, or the computer's memory for the CPU). */
  availableBytes: number | null;
  device: string;
  fits: boolean | null;
  /** One sentence for people: what it needs and whether it fits; null when it fits. */
  warning: string | null;
  /** The longer explanation (what the estimate assumes). */
  details: string;
}

export interface TrainingPreset {
  id: 'cpu' | 'gb8' | 'gb12' | 'gb16' | 'gb24';
  label: string;
  /** One sentence: who it is for. */
  description: string;
  /** Settings it fills in (rank, frames, steps, ...), for training.start. */
  sft: Record<string, unknown>;
  dpo: Record<string, unknown>;
  /** Training size in pixels (the model's; shown, not changed). */
  size: number;
  estimate: TrainingEstimate | null;
  /** Why there is no estimate. */
  estimateError: string | null;
}

export interface TrainingMetricRow {
  step: number;
  loss: number;
  lr: number;
  seconds: number;
  accuracy?: number;
  policyErrGt?: number;
  refErrGt?: number;
}

export interface TrainingMetrics {
  stage: 'sft' | 'dpo';
  rows: TrainingMetricRow[];
  /** Total steps the stage will run. */
  steps: number;
  samples: { step: number; url: string | null; path: string }[];
}

export interface TrainingComparison {
  clip: string | null;
  before: { jobId: string; state: string; url: string | null; scores: Record<string, number | null> | null; scoreNote: string | null } | null;
  after: { jobId: string; state: string; url: string | null; scores: Record<string, number | null> | null; scoreNote: string | null } | null;
  /** One sentence when nothing can be compared yet. */
  note: string | null;
}

// ---------------------------------------------------------------------------------------------------
// The method map

/** One method: its input schema, and (as a phantom type) its output. */
export interface MethodSpec<I extends z.ZodType, O> {
  input: I;
  /** One line for docs and `help`. */
  doc: string;
  /** Never read at run time; carries the output type. */
  readonly _output?: O;
}

function method<O>() {
  return <I extends z.ZodType>(input: I, doc: string): MethodSpec<I, O> => ({ input, doc });
}

const empty = z.strictObject({});
const jobId = z.strictObject({ id });

export const methods = {
  'app.health': method<Health>()(empty, 'Says the service is up and whether the engine is running.'),

  'projects.create': method<Project>()(
    z.strictObject({ name: projectName, folder: absPath.optional() }),
    'Creates a project folder (default: under the data folder) with an empty project file.',
  ),
  'projects.open': method<Project>()(z.strictObject({ path: absPath }), 'Reads a project file (or the project file inside a folder).'),
  'projects.save': method<Project>()(z.strictObject({ project: ProjectSchema }), 'Writes the project file atomically and returns it with a new updatedAt.'),
  'projects.recent': method<{ path: string; name: string; updatedAt: string }[]>()(empty, 'Recently opened projects that still exist, newest first.'),
  'projects.sample': method<Project>()(z.strictObject({}), 'Creates a project with the shipped sample portrait and speech already in it ("Try the sample").'),
  'projects.rename': method<Project>()(z.strictObject({ project: absPath, name: projectName }), 'Renames a project (its folder stays where it is).'),
  'projects.duplicate': method<Project>()(z.strictObject({ project: absPath, name: projectName.optional() }), 'Copies a project, its media included, into a new project folder.'),
  'projects.delete': method<{ removed: string; trash: string }>()(z.strictObject({ project: absPath }), "Moves a project's folder into the studio's trash folder (nothing is erased)."),

  'media.import': method<MediaInfo>()(
    z.strictObject({ path: absPath, project: absPath.optional(), kind: z.enum(['image', 'audio']).optional() }),
    'Copies a file into the project (or data) folder, probes it and returns its metadata and media URL.',
  ),

  'media.list': method<MediaBinEntry[]>()(z.strictObject({ project: absPath }), "The project's media bin: every portrait, speech and recording imported into it, newest first."),
  'media.verify': method<WatermarkCheck>()(z.strictObject({ path: absPath }), 'Checks a video for the invisible watermark and the AI-generated label (what `refree verify` does).'),
  'media.suggestCrop': method<CropSuggestion>()(
    z.strictObject({ path: absPath }),
    'Detects the face in a portrait and suggests a square crop around it (a centred square, with a warning, when none is found).',
  ),
  'media.upload': method<MediaInfo>()(
    z.strictObject({
      name: z.string().min(1, 'a file name is required').max(200, 'the file name is too long'),
      kind: z.literal('audio'),
      // base64 of at most MAX_UPLOAD_BYTES (4 characters per 3 bytes); the exact decoded size is checked by the service.
      dataBase64: z.string().min(1, 'the upload is empty').max(Math.ceil(MAX_UPLOAD_BYTES / 3) * 4 + 4, `the upload is larger than ${MAX_UPLOAD_BYTES / (1024 * 1024)} MB`),
      project: absPath.optional(),
    }),
    'Stores uploaded bytes (a microphone recording) in the project (or data) folder and imports them like media.import.',
  ),

  'generate.preview': method<{ jobId: string }>()(
    z.strictObject({ project: ProjectSchema, seconds: z.number().positive().max(30).default(3) }),
    'Queues a low-cost preview of the first seconds of the trimmed speech (front of the queue).',
  ),
  'generate.summary': method<ExportSummary>()(z.strictObject({ project: ProjectSchema }), 'What an export of the project would be: size, length, frames, model and an estimate of the time.'),
  'generate.export': method<{ jobId: string }>()(
    z.strictObject({ project: ProjectSchema, output: absPath.optional(), watermark: WatermarkOptionsSchema.optional() }),
    'Queues a full export (at the back of the queue).',
  ),

  'jobs.list': method<JobView[]>()(empty, 'Every job, in queue order.'),
  'jobs.get': method<JobView>()(jobId, 'One job.'),
  'jobs.pause': method<JobView>()(jobId, 'Pauses a queued or running job (a running one stops at its next checkpoint and can resume from it).'),
  'jobs.resume': method<JobView>()(jobId, 'Puts a paused job back in the queue.'),
  'jobs.cancel': method<JobView>()(jobId, 'Cancels a job; a running one stops at its next checkpoint.'),
  'jobs.retry': method<JobView>()(jobId, 'Queues a failed or cancelled job again.'),
  'jobs.reorder': method<JobView[]>()(z.strictObject({ id, index: z.number().int().min(0) }), 'Moves a job to a position in the queue.'),
  'jobs.remove': method<{ removed: string }>()(jobId, 'Deletes a finished, failed or cancelled job from the list (its output stays).'),
  'jobs.openOutput': method<{ path: string; url: string | null }>()(jobId, "Returns the finished job's output file; the host reveals or plays it."),

  // The render farm (engine/farm): exports queued in Redis and run by workers on other machines.
  'farm.test': method<FarmTestResult>()(
    z.strictObject({ farm: FarmSettingsSchema.optional() }),
    'Tests render farm settings (these, or the saved ones): Redis answers and takes the password, and the shared folder exists here and can be written.',
  ),
  'farm.export': method<{ jobId: string }>()(
    z.strictObject({ project: ProjectSchema, output: absPath.optional(), watermark: WatermarkOptionsSchema.optional() }),
    "Queues a full export on the render farm: the portrait and speech are copied into the shared folder, and the output must be inside it (default: its outputs folder).",
  ),
  'farm.jobs': method<FarmJobList>()(empty, "The render farm's jobs with the worker of each (none, with a sentence, when the farm is not set up or cannot be reached)."),
  'farm.pause': method<FarmJobRow>()(jobId, 'Pauses a farm job (a running one stops at its next checkpoint; Resume continues from it on any worker).'),
  'farm.resume': method<FarmJobRow>()(jobId, 'Puts a paused farm job back in the farm queue.'),
  'farm.cancel': method<FarmJobRow>()(jobId, 'Cancels a farm job; it is never retried automatically.'),
  'farm.retry': method<FarmJobRow>()(jobId, 'Runs a failed or cancelled farm job again, from its checkpoints, with three fresh attempts.'),
  'farm.reorder': method<FarmJobRow[]>()(z.strictObject({ id, index: z.number().int().min(0) }), 'Moves a waiting farm job to a position among the waiting ones (its priority).'),
  'farm.remove': method<{ removed: string }>()(jobId, 'Deletes a farm job that is not running from the farm queue (its output stays).'),

  'models.list': method<ModelPackageInfo[]>()(empty, 'Installed model packages, the built-in demo model first.'),
  'models.import': method<ModelPackageInfo>()(
    z.strictObject({ folder: absPath, name: z.string().regex(/^[A-Za-z0-9._-]{1,100}$/, 'use letters, digits, dot, dash and underscore').optional() }),
    'Imports a downloaded Wan2.2 folder into a model package (hashes every file; reports progress).',
  ),
  'models.verify': method<VerifyResult>()(z.strictObject({ name: z.string().min(1) }), 'Re-hashes every file of a package and checks its headers.'),
  'models.remove': method<{ removed: string }>()(z.strictObject({ name: z.string().min(1) }), 'Deletes an imported package (the built-in one cannot be removed).'),

  'settings.get': method<Settings>()(empty, 'The current settings.'),
  'settings.update': method<Settings>()(SettingsSchema.partial().strict(), 'Changes some settings and returns them all (an output folder must exist and be writable).'),
  'settings.checkFolder': method<{ path: string; ok: true }>()(z.strictObject({ path: absPath }), 'Checks that a folder exists and can be written to (for output folders, when they are chosen).'),

  'device.info': method<DeviceInfo>()(empty, 'Backends the engine can use, and NVIDIA GPUs with memory when nvidia-smi answers.'),

  // The fine-tuning wizard (DESIGN 9): a training session holds the creator's clips (each checked as it
  // arrives), runs SFT then DPO as queue jobs of kind 'training', and saves the result as a model package.
  'training.listRuns': method<TrainingSession[]>()(empty, 'Training sessions, newest first, with their clips and stages.'),
  'training.create': method<TrainingSession>()(z.strictObject({ name: projectName, model: z.string().min(1).max(200) }), 'Starts a training session for a base model package.'),
  'training.get': method<TrainingSession>()(z.strictObject({ id }), 'One training session with its clips, their checks and its stages.'),
  'training.setModel': method<TrainingSession>()(z.strictObject({ id, model: z.string().min(1).max(200) }), 'Chooses the base model package of a session that has not started training.'),
  'training.addClip': method<TrainingClip>()(z.strictObject({ id, path: absPath }), 'Copies a video into the session and checks it (face, speech, length, frame rate).'),
  'training.uploadClip': method<{ received: number; clip: TrainingClip | null }>()(
    z.strictObject({
      id,
      name: z.string().min(1, 'a file name is required').max(200, 'the file name is too long'),
      dataBase64: z.string().min(1, 'the upload is empty').max(Math.ceil(MAX_UPLOAD_BYTES / 3) * 4 + 4, `one part of an upload is at most ${MAX_UPLOAD_BYTES / (1024 * 1024)} MB`),
      /** Where these bytes go in the file: a large video arrives in parts, in order. */
      offset: z.number().int().min(0).default(0),
      /** The last part: the clip is then checked and added. */
      final: z.boolean().default(true),
    }),
    'Stores an uploaded or recorded video (in parts when large) in the session and, with its last part, checks it like training.addClip.',
  ),
  'training.removeClip': method<TrainingSession>()(z.strictObject({ id, clip: z.string().min(1).max(200) }), 'Takes a clip out of the session (the file is deleted from the session folder).'),
  'training.setHeldOut': method<TrainingSession>()(z.strictObject({ id, clip: z.string().min(1).max(200), heldOut: z.boolean() }), 'Keeps a clip out of training to compare before and after on it.'),
  'training.presets': method<TrainingPreset[]>()(z.strictObject({ model: z.string().min(1).max(200) }), 'Settings presets by available memory, each with its memory and time estimate for the model.'),
  'training.estimate': method<TrainingEstimate>()(
    z.strictObject({ model: z.string().min(1).max(200), stage: z.enum(['sft', 'dpo']), settings: z.record(z.string(), z.unknown()) }),
    'The memory and time a training stage would take with these settings, before anything runs.',
  ),
  'training.start': method<{ jobId: string }>()(
    z.strictObject({ id, stage: z.enum(['sft', 'dpo']), settings: z.record(z.string(), z.unknown()) }),
    'Queues a training stage of the session (SFT prepares the clips first; DPO starts from the SFT result).',
  ),
  'training.metrics': method<TrainingMetrics>()(z.strictObject({ id, stage: z.enum(['sft', 'dpo']) }), "A stage's numbers so far (every step from its metrics file) and its sample videos."),
  'training.compare': method<{ jobIds: string[] }>()(z.strictObject({ id }), 'Queues before/after previews on the held-out clip (the base model and the trained one).'),
  'training.compareResult': method<TrainingComparison>()(z.strictObject({ id }), 'The before/after videos of the held-out clip and their lip-sync and motion scores.'),
  'training.save': method<ModelPackageInfo>()(
    z.strictObject({ id, name: z.string().regex(/^[A-Za-z0-9._-]{1,100}$/, 'use letters, digits, dot, dash and underscore (no spaces)') }),
    'Saves the trained result (DPO when it finished, else SFT) as a named model package for Generate and exports.',
  ),
} as const;

export type Methods = typeof methods;
export type MethodName = keyof Methods;
export type MethodInput<M extends MethodName> = z.input<Methods[M]['input']>;
/** The input after parsing (defaults filled in): what a handler receives. */
export type MethodParams<M extends MethodName> = z.output<Methods[M]['input']>;
export type MethodOutput<M extends MethodName> = Methods[M] extends MethodSpec<z.ZodType, infer O> ? O : never;

/** What a transport returns for one call. */
export type RpcResult<M extends MethodName> = { ok: true; value: MethodOutput<M> } | { ok: false; error: ErrorInfo };

/** The handler table a service implements: one async function per method, nothing missing or extra. */
export type Handlers = { [M in MethodName]: (params: MethodParams<M>) => Promise<MethodOutput<M>> };

/** What a renderer-side client offers: call any method by name with its typed input. */
export interface ServiceClient {
  call<M extends MethodName>(method: M, params: MethodInput<M>): Promise<MethodOutput<M>>;
  on<E extends EventName>(event: E, cb: (payload: Events[E]) => void): () => void;
}

export const METHOD_NAMES = Object.keys(methods) as MethodName[];

export function isMethodName(s: unknown): s is MethodName {
  return typeof s === 'string' && Object.prototype.hasOwnProperty.call(methods, s);
}

// ---------------------------------------------------------------------------------------------------
// Events (service → renderers)

export interface Events {
  /** A job was added, changed state, or made progress (the whole record, so a mirror just replaces it). */
  'job.updated': JobView;
  /** A job was removed from the list. */
  'job.removed': { id: string };
  /** The queue order changed. */
  'jobs.reordered': { ids: string[] };
  /** A live preview frame from a running job (an image file under an allowed root). */
  'job.preview': { id: string; url: string | null; path: string };
  /** Model import/verify progress. */
  'models.progress': { name: string; action: 'import' | 'verify'; done: number; total: number; file: string };
  'engine.state': { state: EngineState; pid: number | null; message: string | null };
  'settings.changed': Settings;
}
export type EventName = keyof Events;

/** Event names as a runtime list (kept in step with `Events` by contract.typecheck.ts). */
export const EVENT_NAMES = ['job.updated', 'job.removed', 'jobs.reordered', 'job.preview', 'models.progress', 'engine.state', 'settings.changed'] as const satisfies readonly EventName[];

export const JOB_KIND_LIST = JOB_KINDS;
