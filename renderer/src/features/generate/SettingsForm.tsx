// Generation settings (stored in the project): model, steps, seed, guidance, size, fps, sampler.
import type { GenerationSettings } from '../../../../engine/service/contract.js';
import { Field } from '../../components/common.js';
import { DEFAULT_GENERATION_SETTINGS } from '../../store/defaults.js';
import { useStudio } from '../../store/store.js';

const SIZES = [128, 192, 256, 320, 384, 480, 512, 640, 704, 1280];

export function SettingsForm() {
  const settings = useStudio((s) => s.project?.settings ?? DEFAULT_GENERATION_SETTINGS);
  const models = useStudio((s) => s.models);
  const setGeneration = useStudio((s) => s.setGeneration);
  const num = (k: keyof GenerationSettings) => (e: { target: { value: string } }) => setGeneration({ [k]: Number(e.target.value) } as Partial<GenerationSettings>);
  return (
    <div className="row" data-testid="generation-settings">
      <Field label="Model">
        <select value={settings.model} onChange={(e) => setGeneration({ model: e.target.value })}>
          {models.length === 0 ? <option value={settings.model}>{settings.model}</option> : models.map((m) => <option key={m.name} value={m.name}>{m.name}</option>)}
        </select>
      </Field>
      <Field label="Steps">
        <input type="number" min={1} max={200} value={settings.steps} onChange={num('steps')} data-testid="steps" />
      </Field>
      <Field label="Seed">
        <input type="number" min={0} value={settings.seed} onChange={num('seed')} data-testid="seed" />
      </Field>
      <Field label="Guidance">
        <input type="number" min={0} max={20} step={0.5} value={settings.guidance} onChange={num('guidance')} />
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
        <input type="number" min={1} max={60} value={settings.fps} onChange={num('fps')} />
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
