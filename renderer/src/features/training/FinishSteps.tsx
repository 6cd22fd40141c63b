// Steps 5 and 6: Compare (the held-out clip made by the base model and by the trained one, side by side,
// with the lip-sync and motion scores of `refree eval`) and Save (a named model package that Generate,
// exports and Settings list like any other model).
import { useEffect, useState } from 'react';
import type { TrainingComparison, TrainingSession } from '../../../../engine/service/contract.js';
import { useHost } from '../../host/host-context.js';
import { STATE_LABEL } from '../../lib/job-status.js';
import { useStudio } from '../../store/store.js';

type Side = NonNullable<TrainingComparison['before']>;

function Scores({ side }: { side: Side }) {
  const s = side.scores;
  if (side.scoreNote && !s) return <p className="small warning" data-testid="compare-scores">{side.scoreNote}</p>;
  if (!s) return <p className="small muted">Scores follow when the video is made.</p>;
  const n = (v: number | null | undefined, d = 2): string => (v === null || v === undefined ? '—' : v.toFixed(d));
  return (
    <table className="kv small" data-testid="compare-scores">
      <tbody>
        <tr>
          <td>Lip-sync confidence</td>
          <td>{n(s.syncConfidence)}</td>
          <td className="muted">higher: the mouth follows the speech more clearly</td>
        </tr>
        <tr>
          <td>Lip-sync offset</td>
          <td>{n(s.syncOffsetFrames, 0)} frames</td>
          <td className="muted">0 is in time</td>
        </tr>
        <tr>
          <td>Face found</td>
          <td>
            {n(s.faceFrames, 0)} of {n(s.frames, 0)} frames
          </td>
          <td />
        </tr>
        <tr>
          <td>Head and face motion</td>
          <td>{n(s.motion)} px</td>
          <td className="muted">some motion looks alive</td>
        </tr>
      </tbody>
    </table>
  );
}

export function CompareStep({ session }: { session: TrainingSession }) {
  const host = useHost();
  const report = useStudio((s) => s.report);
  const jobs = useStudio((s) => s.jobs);
  const [cmp, setCmp] = useState<TrainingComparison | null>(null);
  const held = session.clips.find((c) => c.heldOut);
  const trained = session.sft?.finished || session.dpo?.finished;
  const tick = cmp ? [cmp.before?.jobId, cmp.after?.jobId].map((id) => jobs.find((j) => j.id === id)?.state).join() : '';
  useEffect(() => {
    let live = true;
    host.call('training.compareResult', { id: session.id }).then((r) => live && setCmp(r), report);
    return () => {
      live = false;
    };
  }, [host, session.id, tick, report]);

  const side = (label: string, s: Side | null | undefined) => (
    <div className="compare-side" data-testid={`compare-${label}`}>
      <h3>{label === 'before' ? 'Before — the base model' : 'After — your trained model'}</h3>
      {s?.url ? <video src={host.mediaUrl(s.url) ?? undefined} controls preload="metadata" /> : <p className="small muted">{s ? STATE_LABEL[s.state as keyof typeof STATE_LABEL] ?? s.state : 'Not made yet'}…</p>}
      {s ? <Scores side={s} /> : null}
      {s?.scores && s.scoreNote ? <p className="small warning">{s.scoreNote}</p> : null}
    </div>
  );
  return (
    <section className="panel" data-testid="step-compare">
      <h2>5 · Compare before and after</h2>
      <p className="muted">Both models make a short video of a clip that was kept out of training{held ? ` (${held.name})` : ''}: its first frame and its speech. The scores are the studio's lip-sync and motion measures.</p>
      {!held ? <p className="warning small">Tick “Keep for the before/after comparison” on one of your clips in step 1 (before training) to compare on a clip the model has not seen.</p> : null}
      <button className="btn primary" disabled={!held || !trained} onClick={() => void host.call('training.compare', { id: session.id }).then(() => host.call('training.compareResult', { id: session.id })).then(setCmp, report)} data-testid="compare-start">
        {cmp?.clip ? 'Make the comparison again' : 'Make the comparison'}
      </button>
      {cmp && cmp.clip ? (
        <div className="grid-2 compare">
          {side('before', cmp.before)}
          {side('after', cmp.after)}
        </div>
      ) : null}
    </section>
  );
}

export function SaveStep({ session, onChange }: { session: TrainingSession; onChange: (s: TrainingSession) => void }) {
  const host = useHost();
  const report = useStudio((s) => s.report);
  const refreshModels = useStudio((s) => s.refreshModels);
  const setGeneration = useStudio((s) => s.setGeneration);
  const setScreen = useStudio((s) => s.setScreen);
  const project = useStudio((s) => s.project);
  const [name, setName] = useState(session.name.toLowerCase().replace(/[^a-z0-9._-]+/g, '-').replace(/^-|-$/g, '') || 'my-model');
  const [error, setError] = useState<string | null>(null);
  const which = session.dpo?.finished ? 'DPO' : session.sft?.finished ? 'SFT' : null;
  const save = () => {
    if (!/^[A-Za-z0-9._-]{1,100}$/.test(name)) return setError('Use letters, digits, dot, dash and underscore (no spaces).');
    setError(null);
    void host
      .call('training.save', { id: session.id, name })
      .then(async () => {
        await refreshModels();
        onChange(await host.call('training.get', { id: session.id }));
      })
      .catch(report);
  };
  return (
    <section className="panel" data-testid="step-save">
      <h2>6 · Save your model</h2>
      {session.savedAs ? (
        <div data-testid="saved">
          <p className="ok-text">
            Saved as <strong>{session.savedAs}</strong>. It is listed in Settings → Models and can be chosen as the model in Generate and for exports.
          </p>
          <button
            className="btn primary"
            disabled={!project}
            onClick={() => {
              setGeneration({ model: session.savedAs! });
              setScreen('generate');
            }}
            data-testid="use-in-generate"
          >
            Use it in Generate
          </button>
          {!project ? <span className="small muted"> Open a project first to generate with it.</span> : null}
        </div>
      ) : (
        <>
          <p className="muted">{which ? `Saves the result of the ${which} stage as a model of its own (a small add-on to ${session.model}; the base model is not copied).` : 'Finish at least the first training stage to save a model.'}</p>
          <div className="row">
            <label className="field">
              <span>Model name</span>
              <input value={name} onChange={(e) => setName(e.target.value)} data-testid="save-name" aria-invalid={error ? true : undefined} />
            </label>
            <button className="btn primary" disabled={!which} onClick={save} data-testid="save-model">
              Save model
            </button>
          </div>
          {error ? <p className="field-error">{error}</p> : null}
        </>
      )}
    </section>
  );
}
