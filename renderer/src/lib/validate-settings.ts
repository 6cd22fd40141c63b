// Field-level checks of the generation settings, in the form's own words, so a bad value is named
// beside its field while it is typed (the service checks again; these only save a round trip).
import type { GenerationSettings } from '../../../engine/service/contract.js';

export type SettingsErrors = Partial<Record<keyof GenerationSettings, string>>;

const whole = (v: number, lo: number, hi: number, what: string): string | null =>
  !Number.isFinite(v) || !Number.isInteger(v) ? `${what} must be a whole number` : v < lo || v > hi ? `${what} must be between ${lo} and ${hi}` : null;

export function validateSettings(s: GenerationSettings): SettingsErrors {
  const e: SettingsErrors = {};
  const put = (k: keyof GenerationSettings, m: string | null) => {
    if (m) e[k] = m;
  };
  put('steps', whole(s.steps, 1, 200, 'Steps'));
  put('seed', whole(s.seed, 0, 2 ** 32 - 1, 'Seed'));
  put('fps', whole(s.fps, 1, 60, 'Frames per second'));
  put('guidance', !Number.isFinite(s.guidance) || s.guidance < 0 || s.guidance > 20 ? 'Guidance must be between 0 and 20' : null);
  for (const k of ['width', 'height'] as const) put(k, whole(s[k], 64, 1280, k === 'width' ? 'Width' : 'Height') ?? (s[k] % 16 ? `${k === 'width' ? 'Width' : 'Height'} must be a multiple of 16` : null));
  return e;
}
