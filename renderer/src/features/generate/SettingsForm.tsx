// Generation settings (stored in the project): model, steps, seed, guidance, size, fps, sampler. A bad
// value is named under its field as it is typed, and clears itself once fixed.
import type { GenerationSettings } from '../../../../engine/service/contract.js';
import { Field } from '../../components/common.js';
import { validateSettings } from '../../lib/validate-settings.js';
import { DEFAULT_GENERATION_SETTINGS } from '../../store/defaults.js';
import { useStudio } from '../../store/store.js';

const SIZES = [128, 192, 256, 320, 384, 480, 512, 640, 704, 1280];

export function SettingsForm() {
  const settings = useStudio((s) => s.project?.settings ?? DEFAULT_GENERATION_SETTINGS);
  const models = useStudio((s) => s.models);
  const setGeneration = useStudio((s) => s.setGeneration);
  // An emptied field is NaN (not 0), so it is named as missing rather than silently becoming zero.
  const num = (k: keyof GenerationSettings) => (e: { target: { value: string } }) => setGeneration({ [k]: e.target.value.trim() === '' ? Number.NaN : Number(e.target.value) } as Partial<GenerationSettings>);
  const errors = validateSettings(settings);
  const err = (k: keyof GenerationSettings) =>
    errors[k] ? (
      <span className="field-error" role="alert" data-testid={`error-${k}`}>
        {errors[k]}
      </span>
    ) : null;
  const value = (v: number) => (Number.isNaN(v) ? '' : v);
  return (
    <div className="row" data-testid="generation-settings">
      <Field label="Model">
        <select value={settings.model} onChange={(e) => setGeneration({ model: e.target.value })}>
          {models.length === 0 ? <option value={settings.model}>{settings.model}</option> : models.map((m) => <option key={m.name} value={m.name}>{m.name}</option>)}
        </select>
      </Field>
      <Field label="Steps">
        <input type="number" min={1} max={200} value={value(settings.steps)} onChange={num('steps')} data-testid="steps" aria-invalid={errors.steps ? true : undefined} />
        {err('steps')}
      </Field>
      <Field label="Seed">
        <input type="number" min={0} value={value(settings.seed)} onChange={num('seed')} data-testid="seed" aria-invalid={errors.seed ? true : undefined} />
        {err('seed')}
      </Field>
      <Field label="Guidance">
        <input type="number" min={0} max={20} step={0.5} value={value(settings.guidance)} onChange={num('guidance')} aria-invalid={errors.guidance ? true : undefined} />
        {err('guidance')}
      </Field>
      <Field label="Width">
        <select value={settings.width} onChange={num('width')}>
          {SIZES.map((s) => <option key={s}>{s}</option>)}
        </select>
      </Field>
      <Field label="Height">
        <select value={settings.height} onChange={num('height')}>
          {SIZES.map((s) => <option key={s}>{s}</option>)}
        </select>
      </Field>
      <Field label="FPS">
        <input type="number" min={1} max={60} value={value(settings.fps)} onChange={num('fps')} aria-invalid={errors.fps ? true : undefined} data-testid="fps" />
        {err('fps')}
      </Field>
      <Field label="Sampler">
        <select value={settings.sampler} onChange={(e) => setGeneration({ sampler: e.target.value as GenerationSettings['sampler'] })}>
          <option value="unipc">UniPC</option>
          <option value="euler">Euler</option>
        </select>
      </Field>
    </div>
  );
}
