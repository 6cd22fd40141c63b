// The wizard's settings forms: each field with a plain-language label and help sentence, the advanced
// ones folded away, and the conversion between the form (strings, as typed) and the trainer's settings
// (engine/train/settings.ts). Pure, so the node test runner checks it without a DOM.

export type Stage = 'sft' | 'dpo';

export interface FieldSpec {
  key: string;
  label: string;
  help: string;
  kind: 'int' | 'number' | 'list';
  min?: number;
  max?: number;
  advanced?: boolean;
}

export const SFT_FIELDS: FieldSpec[] = [
  { key: 'steps', label: 'Training steps', help: 'How many times the model adjusts itself to your clips. More steps learn more of your look and voice, and take longer.', kind: 'int', min: 1, max: 100000 },
  { key: 'rank', label: 'Adapter size (rank)', help: 'How much the add-on can learn. Larger picks up more detail but needs more memory and can copy a few clips too closely.', kind: 'int', min: 1, max: 256 },
  { key: 'frames', label: 'Window length (latent frames)', help: 'How long a stretch of video it looks at at once; each latent frame is 4 video frames. Longer windows learn smoother motion and need more memory.', kind: 'int', min: 2, max: 64 },
  { key: 'sampleEvery', label: 'Sample video every … steps', help: 'Makes a short test video every so often so you can watch it learn. 0 makes none (faster).', kind: 'int', min: 0, max: 100000 },
  { key: 'lr', label: 'Learning rate', help: 'How big each adjustment is. Too high and it forgets what it knew; too low and it learns slowly.', kind: 'number', min: 1e-7, max: 0.1, advanced: true },
  { key: 'batch', label: 'Windows per step', help: 'Windows looked at together in one step: steadier learning, more memory.', kind: 'int', min: 1, max: 64, advanced: true },
  { key: 'accumulation', label: 'Steps added up', help: 'Adds up several small steps into one, for the effect of more windows per step without the memory.', kind: 'int', min: 1, max: 64, advanced: true },
  { key: 'warmup', label: 'Warm-up steps', help: 'The first steps start gently and grow to the full learning rate.', kind: 'int', min: 0, max: 100000, advanced: true },
  { key: 'checkpointEvery', label: 'Save progress every … steps', help: 'How often the run saves a checkpoint it can resume from after a pause, a crash or a restart.', kind: 'int', min: 1, max: 100000, advanced: true },
  { key: 'speechDrop', label: 'Speech left out (share)', help: 'How often the speech is hidden from a window, so the model also learns what to do without it (used for guidance when generating).', kind: 'number', min: 0, max: 0.99, advanced: true },
  { key: 'seed', label: 'Seed', help: 'The same seed and settings give the same run.', kind: 'int', min: 0, max: 2 ** 31, advanced: true },
];

export const DPO_FIELDS: FieldSpec[] = [
  { key: 'steps', label: 'Training steps', help: 'How many times the model is nudged towards the good version of each clip and away from the worse ones.', kind: 'int', min: 1, max: 100000 },
  { key: 'maskRatios', label: 'Speech-masking ratios', help: 'The worse versions are made by hiding this share of the speech (0 = none hidden, 0.4 = 40 %). Comma-separated, growing: the first is the best version.', kind: 'list' },
  { key: 'beta', label: 'Strength (β)', help: 'How strongly it prefers the good version over the worse ones. Higher pushes harder and can make it drift from what it learned before.', kind: 'number', min: 1e-6, max: 1e7 },
  { key: 'refDecay', label: 'Reference follow-up (EMA)', help: 'The model is compared with a slowly following copy of itself; 0.99 follows slowly, 1 keeps the starting copy fixed.', kind: 'number', min: 0, max: 1 },
  { key: 'sampleSteps', label: 'Steps per worse version', help: 'Sampler steps used to make each worse version before training; more is closer to real output and slower.', kind: 'int', min: 1, max: 100, advanced: true },
  { key: 'windowsPerClip', label: 'Windows per clip', help: 'Windows of each clip used (0 = all of them).', kind: 'int', min: 0, max: 1000, advanced: true },
  { key: 'lr', label: 'Learning rate', help: 'How big each adjustment is; DPO uses a smaller one than the first stage.', kind: 'number', min: 1e-8, max: 0.1, advanced: true },
  { key: 'checkpointEvery', label: 'Save progress every … steps', help: 'How often the run saves a checkpoint it can resume from.', kind: 'int', min: 1, max: 100000, advanced: true },
];

export const SFT_FORM_DEFAULTS: Record<string, string> = { steps: '1000', rank: '16', frames: '5', sampleEvery: '0', lr: '0.0001', batch: '4', accumulation: '1', warmup: '50', checkpointEvery: '100', speechDrop: '0.1', seed: '0' };
export const DPO_FORM_DEFAULTS: Record<string, string> = { steps: '200', maskRatios: '0, 0.2, 0.4', beta: '2500', refDecay: '0.99', sampleSteps: '8', windowsPerClip: '0', lr: '0.00001', checkpointEvery: '50' };

export type FormValues = Record<string, string>;

/** A preset's trainer settings → form strings (rank from lora.rank; lists comma-separated). */
export function formFromSettings(defaults: FormValues, s: Record<string, unknown>): FormValues {
  const out: FormValues = { ...defaults };
  for (const [k, v] of Object.entries(s)) {
    if (k === 'lora' && v && typeof v === 'object') out.rank = String((v as { rank: number }).rank);
    else if (Array.isArray(v)) out[k] = v.join(', ');
    else if (typeof v === 'number') out[k] = String(v);
  }
  return out;
}

/** The form → trainer settings, or the first field's problem as a sentence. */
export function settingsFromForm(fields: readonly FieldSpec[], form: FormValues, extra: Record<string, unknown> = {}): { settings: Record<string, unknown> } | { error: string } {
  const s: Record<string, unknown> = { ...extra };
  for (const f of fields) {
    const raw = (form[f.key] ?? '').trim();
    if (f.kind === 'list') {
      const parts = raw.split(/[,\s]+/).filter(Boolean).map(Number);
      if (parts.length === 0 || parts.some((x) => !Number.isFinite(x) || x < 0 || x > 1)) return { error: `${f.label}: give numbers from 0 to 1 separated by commas, e.g. 0, 0.2, 0.4.` };
      for (let i = 1; i < parts.length; i++) if (parts[i]! <= parts[i - 1]!) return { error: `${f.label}: each ratio must be larger than the one before (got ${raw}).` };
      s[f.key] = parts;
      continue;
    }
    const n = Number(raw);
    if (raw === '' || !Number.isFinite(n)) return { error: `${f.label}: give a number.` };
    if (f.kind === 'int' && !Number.isInteger(n)) return { error: `${f.label}: give a whole number (got ${raw}).` };
    if (f.min !== undefined && n < f.min) return { error: `${f.label}: at least ${f.min} (got ${raw}).` };
    if (f.max !== undefined && n > f.max) return { error: `${f.label}: at most ${f.max} (got ${raw}).` };
    if (f.key === 'rank') {
      const base = (extra.lora as { targets?: string[] } | undefined) ?? {};
      s.lora = { rank: n, alpha: n, targets: base.targets ?? ['q', 'k', 'v', 'o', 'ffn.0', 'ffn.2'] };
    } else s[f.key] = n;
  }
  return { settings: s };
}

/** "about 12 min", "about 40 s", "about 2 h 5 min" for an estimate; "less than a second" for tiny ones. */
export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return '—';
  if (seconds < 1) return 'less than a second';
  if (seconds < 90) return `about ${Math.round(seconds)} s`;
  const min = Math.round(seconds / 60);
  if (min < 90) return `about ${min} min`;
  return `about ${Math.floor(min / 60)} h ${min % 60} min`;
}

export function formatGb(bytes: number): string {
  if (bytes < 1e9) return `${Math.max(1, Math.round(bytes / 1e6))} MB`;
  return `${(bytes / 1e9).toFixed(1)} GB`;
}
