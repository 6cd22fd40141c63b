// Settings live in <data>/settings.json, written atomically. A file that no longer validates (an
// older version, a hand edit) falls back to the defaults field by field, and says so, never a crash.
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { writeJsonAtomic } from '../common/atomic-write.js';
import type { Settings } from './contract.js';
import { SettingsSchema } from './contract.js';

export function defaultSettings(dataDir: string): Settings {
  return {
    backend: 'auto',
    outputFolder: path.join(dataDir, 'outputs'),
    watermark: { visible: true, text: 'AI-generated · ReFree', position: 'bottom-right' },
    theme: 'system',
    // The render farm is not set up until a Redis URL and a shared folder are given.
    farm: { redisUrl: '', password: '', tls: false, sharedFolder: '' },
  };
}

export class SettingsStore {
  private current: Settings;
  readonly problems: string[] = [];
  private constructor(
    private readonly file: string,
    initial: Settings,
  ) {
    this.current = initial;
  }

  static async open(dataDir: string): Promise<SettingsStore> {
    const file = path.join(dataDir, 'settings.json');
    const defaults = defaultSettings(dataDir);
    let saved: Record<string, unknown> = {};
    const problems: string[] = [];
    try {
      saved = JSON.parse(await readFile(file, 'utf8')) as Record<string, unknown>;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') problems.push(`settings.json could not be read (${(e as Error).message}); using the defaults`);
    }
    const merged: Record<string, unknown> = { ...defaults };
    for (const key of Object.keys(defaults) as (keyof Settings)[]) {
      if (!(key in saved)) continue;
      const one = SettingsSchema.shape[key].safeParse(saved[key]);
      if (one.success) merged[key] = one.data;
      else problems.push(`the saved setting "${key}" is not valid; using the default`);
    }
    const s = new SettingsStore(file, SettingsSchema.parse(merged));
    s.problems.push(...problems);
    return s;
  }

  get(): Settings {
    return structuredClone(this.current);
  }

  async update(patch: Partial<Settings>): Promise<Settings> {
    const next = SettingsSchema.parse({ ...this.current, ...patch });
    await writeJsonAtomic(this.file, next);
    this.current = next;
    return this.get();
  }
}
