// Step 2, the base model and a preset by memory. Each preset fills the settings (adapter size, window
// length, steps) and shows the memory and time estimate of its training step, worked out from the real
// training graph before anything runs, with a warning when it will not fit this machine.
import { useEffect, useState } from 'react';
import type { TrainingPreset, TrainingSession } from '../../../../engine/service/contract.js';
import { useHost } from '../../host/host-context.js';
import { useStudio } from '../../store/store.js';
import { defaultPreset } from './presets.js';
import { formatDuration, formatGb } from './settings-form.js';

export function ModelStep({ session, onChange, preset, onPreset, locked }: { session: TrainingSession; onChange: (s: TrainingSession) => void; preset: TrainingPreset | null; onPreset: (p: TrainingPreset) => void; locked: boolean }) {
  const host = useHost();
  const report = useStudio((s) => s.report);
  const models = useStudio((s) => s.models);
  const [presets, setPresets] = useState<TrainingPreset[] | null>(null);

  useEffect(() => {
    let live = true;
    setPresets(null);
    host.call('training.presets', { model: session.model }).then((p) => {
      if (!live) return;
      setPresets(p);
      if (!preset || !p.some((x) => x.id === preset.id)) {
        const d = defaultPreset(p);
        if (d) onPreset(d);
      }
    }, report);
    return () => {
      live = false;
    };
    // A new model means new estimates; the preset choice itself does not refetch.
  }, [host, session.model]);

  const bases = models.filter((m) => m.name !== session.savedAs);
  return (
    <section className="panel" data-testid="step-model">
      <h2>2 · Base model and preset</h2>
      <div className="row">
        <label className="field">
          <span>Model to fine-tune</span>
          <select value={session.model} disabled={locked} onChange={(e) => void host.call('training.setModel', { id: session.id, model: e.target.value }).then(onChange, report)} data-testid="train-model">
            {bases.length === 0 ? <option value={session.model}>{session.model}</option> : bases.map((m) => <option key={m.name} value={m.name}>{m.name}{m.builtIn ? ' (built-in demo)' : ''}</option>)}
          </select>
        </label>
      </div>
      <p className="muted">Choose how much memory the graphics card has. The preset fills in the settings; you can change them in the next step.</p>
      {presets === null ? <p className="small muted">Working out what each preset needs…</p> : null}
      <div className="presets" role="radiogroup" aria-label="Presets">
        {(presets ?? []).map((p) => {
          const e = p.estimate;
          const chosen = preset?.id === p.id;
          return (
            <button key={p.id} role="radio" aria-checked={chosen} className={`preset${chosen ? ' chosen' : ''}${e && !e.fits ? ' too-big' : ''}`} onClick={() => onPreset(p)} disabled={locked} data-testid={`preset-${p.id}`}>
              <strong>{p.label}</strong>
              <span className="small muted">{p.description}</span>
              <span className="small">
                Adapter size {String((p.sft.lora as { rank: number }).rank)} · windows of {String(p.sft.frames)} latent frames · {String(p.sft.steps)} steps · {p.size}×{p.size} px
              </span>
              {e ? (
                <span className={`small ${e.fits ? 'ok-text' : 'warning'}`} data-testid="preset-estimate">
                  Needs about {formatGb(e.peakBytes)} · {formatDuration(e.totalSeconds)} for the first stage
                  {e.fits ? ' · fits' : ' · will not fit'}
                </span>
              ) : (
                <span className="small warning">{p.estimateError}</span>
              )}
            </button>
          );
        })}
      </div>
      {preset?.estimate ? (
        <div className="small" data-testid="estimate">
          {preset.estimate.warning ? <p className="warning" data-testid="estimate-warning">⚠ {preset.estimate.warning}</p> : <p className="ok-text">Fits on {preset.estimate.device}.</p>}
          <details>
            <summary>How this is worked out</summary>
            <p className="muted">{preset.estimate.details} Times are estimates from the size of the computation; the first stage's real speed shows in the chart once it runs.</p>
          </details>
        </div>
      ) : null}
    </section>
  );
}
