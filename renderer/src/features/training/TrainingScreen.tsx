// The fine-tuning wizard: Clips → Base model and preset → SFT → DPO → Compare → Save, one step at a
// time, over a training session kept by the service (so a reload or a restart of the studio comes back
// to the same session, its running job and its charts). The last session and step are remembered in
// the page's local storage.
import { useCallback, useEffect, useState } from 'react';
import type { TrainingPreset, TrainingSession } from '../../../../engine/service/contract.js';
import { useHost } from '../../host/host-context.js';
import { useStudio } from '../../store/store.js';
import { ClipsStep } from './ClipsStep.js';
import { CompareStep, SaveStep } from './FinishSteps.js';
import { ModelStep } from './ModelStep.js';
import { defaultPreset } from './presets.js';
import type { FormValues } from './settings-form.js';
import { DPO_FORM_DEFAULTS, SFT_FORM_DEFAULTS, formFromSettings } from './settings-form.js';
import { StageStep } from './StageStep.js';
import './training.css';

const STEPS = [
  { id: 'clips', label: 'Clips' },
  { id: 'model', label: 'Model & preset' },
  { id: 'sft', label: 'SFT' },
  { id: 'dpo', label: 'DPO' },
  { id: 'compare', label: 'Compare' },
  { id: 'save', label: 'Save' },
] as const;
type StepId = (typeof STEPS)[number]['id'];

const KEY = 'refree.training';
function remembered(): { id: string | null; step: StepId; preset: string | null } {
  try {
    const v = JSON.parse(localStorage.getItem(KEY) ?? 'null') as { id?: string; step?: StepId; preset?: string } | null;
    return { id: v?.id ?? null, step: v?.step && STEPS.some((s) => s.id === v.step) ? v.step : 'clips', preset: v?.preset ?? null };
  } catch {
    return { id: null, step: 'clips', preset: null };
  }
}


function NewSession({ onCreated, sessions, onOpen }: { onCreated: (s: TrainingSession) => void; sessions: TrainingSession[]; onOpen: (s: TrainingSession) => void }) {
  const host = useHost();
  const report = useStudio((s) => s.report);
  const models = useStudio((s) => s.models);
  const [name, setName] = useState('My voice and face');
  const model = models.find((m) => m.builtIn)?.name ?? models[0]?.name ?? 'refree-mini';
  return (
    <section className="panel" data-testid="training-start">
      <h2>Teach the model your face and voice</h2>
      <p className="muted">
        Fine-tuning makes a small add-on for a model from a few videos of you talking, so that generated videos look and move more like you. It runs on this computer in six steps: add clips, pick a preset, two training stages, compare, save.
      </p>
      <ul className="small muted">
        <li>You need a few videos of yourself talking to the camera (you can also record them here with the webcam).</li>
        <li>It takes minutes with the built-in demo model, and hours with a full model on a graphics card. You can pause, close the studio and carry on later.</li>
        <li>Your clips stay on this computer.</li>
      </ul>
      <div className="row">
        <label className="field">
          <span>Name of this training</span>
          <input value={name} onChange={(e) => setName(e.target.value)} data-testid="training-name" />
        </label>
        <button className="btn primary" onClick={() => void host.call('training.create', { name, model }).then(onCreated, report)} disabled={!name.trim()} data-testid="training-new">
          Start a new training
        </button>
      </div>
      {sessions.length ? (
        <>
          <h3 className="small">Earlier trainings</h3>
          <ul className="job-list">
            {sessions.map((s) => (
              <li key={s.id} className="job">
                <div>
                  <strong>{s.name}</strong>
                  <div className="small muted">
                    {s.clips.length} clips · {s.model}
                    {s.savedAs ? ` · saved as ${s.savedAs}` : ''}
                  </div>
                </div>
                <div className="actions">
                  <button className="btn" onClick={() => onOpen(s)}>
                    Open
                  </button>
                </div>
              </li>
            ))}
          </ul>
        </>
      ) : null}
    </section>
  );
}

const pick = (o: Record<string, unknown>, keys: string[]): Record<string, unknown> => Object.fromEntries(keys.filter((k) => o[k] !== undefined).map((k) => [k, o[k]]));

export function TrainingScreen() {
  const host = useHost();
  const report = useStudio((s) => s.report);
  const [session, setSession] = useState<TrainingSession | null>(null);
  const [sessions, setSessions] = useState<TrainingSession[] | null>(null);
  const [step, setStep] = useState<StepId>(remembered().step);
  const [preset, setPreset] = useState<TrainingPreset | null>(null);
  const [sftForm, setSftForm] = useState<FormValues>(SFT_FORM_DEFAULTS);
  const [dpoForm, setDpoForm] = useState<FormValues>(DPO_FORM_DEFAULTS);
  // The job states of this session's stages, so the session view follows the queue.
  const stageStates = useStudio((s) => (session ? [session.sft?.jobId, session.dpo?.jobId].map((id) => s.jobs.find((j) => j.id === id)?.state ?? '').join() : ''));

  // Written only once a session is open: on a reload the first render has none yet, and must not
  // forget the one to come back to. "All trainings" forgets it explicitly.
  useEffect(() => {
    if (session) localStorage.setItem(KEY, JSON.stringify({ id: session.id, step, preset: preset?.id ?? null }));
  }, [session?.id, step, preset?.id]);

  useEffect(() => {
    host.call('training.listRuns', {}).then((all) => {
      setSessions(all);
      const want = remembered().id;
      const s = all.find((x) => x.id === want);
      if (s) setSession(s);
    }, report);
  }, [host, report]);

  const refresh = useCallback(() => {
    if (session) void host.call('training.get', { id: session.id }).then(setSession, report);
  }, [host, session?.id, report]);
  useEffect(refresh, [stageStates]);

  // After a reload the preset chosen before comes back (remembered beside the session), so the stages
  // get its settings; a first visit gets the default one (defaultPreset).
  useEffect(() => {
    if (!session || preset) return;
    host.call('training.presets', { model: session.model }).then((p) => setPreset(p.find((x) => x.id === remembered().preset) ?? defaultPreset(p)), () => undefined);
  }, [host, session?.model]);

  // The settings forms follow the chosen preset, and keep what the stage last ran with.
  useEffect(() => {
    if (!preset) return;
    setSftForm(formFromSettings(SFT_FORM_DEFAULTS, { ...preset.sft, ...(session?.sft?.settings ?? {}) }));
    setDpoForm(formFromSettings(DPO_FORM_DEFAULTS, { ...preset.dpo, ...(session?.dpo?.settings ?? {}) }));
  }, [preset]);

  if (!session) {
    return (
      <div data-testid="screen-training">
        <h1 className="screen-title">Training</h1>
        {sessions === null ? <p className="muted">Loading…</p> : <NewSession sessions={sessions} onCreated={(s) => { setSession(s); setStep('clips'); }} onOpen={setSession} />}
      </div>
    );
  }

  const sftActive = ['queued', 'running', 'paused'].includes(session.sft?.state ?? '');
  const trainable = session.clips.filter((c) => c.accepted && !c.heldOut).length;
  const done: Record<StepId, boolean> = {
    clips: trainable > 0,
    model: preset !== null,
    sft: !!session.sft?.finished,
    dpo: !!session.dpo?.finished,
    compare: false,
    save: session.savedAs !== null,
  };
  const index = STEPS.findIndex((s) => s.id === step);
  const next = STEPS[index + 1];
  const extra = (stage: 'sft' | 'dpo'): Record<string, unknown> => {
    // DPO continues the SFT adapter: the same LoRA and window as the SFT run, whatever preset is shown now.
    const p = stage === 'dpo' && session.sft ? { ...(preset?.dpo ?? {}), ...pick(session.sft.settings, ['lora', 'recompute', 'frames']) } : preset ? (stage === 'sft' ? preset.sft : preset.dpo) : {};
    // Settings the preset fills that the form does not show (LoRA targets, recomputation, batch for DPO).
    const { lora, recompute, frames, batch } = p as { lora?: unknown; recompute?: boolean; frames?: number; batch?: number };
    return { ...(lora ? { lora } : {}), ...(recompute !== undefined ? { recompute } : {}), ...(stage === 'dpo' && frames ? { frames } : {}), ...(stage === 'dpo' && batch ? { batch } : {}) };
  };
  return (
    <div data-testid="screen-training">
      <div className="row">
        <h1 className="screen-title">Training · {session.name}</h1>
        <span className="spacer" />
        <button className="btn" onClick={() => { localStorage.removeItem(KEY); setSession(null); void host.call('training.listRuns', {}).then(setSessions, report); }} data-testid="training-sessions">
          All trainings
        </button>
      </div>
      <ol className="wizard-steps" aria-label="Steps">
        {STEPS.map((s, i) => (
          <li key={s.id}>
            <button aria-current={s.id === step ? 'step' : undefined} className={done[s.id] ? 'done' : ''} onClick={() => setStep(s.id)} data-testid={`wizard-${s.id}`}>
              <span className="step-no">{done[s.id] ? '✓' : i + 1}</span> {s.label}
            </button>
          </li>
        ))}
      </ol>
      {step === 'clips' ? <ClipsStep session={session} onChange={setSession} locked={sftActive} /> : null}
      {step === 'model' ? <ModelStep session={session} onChange={setSession} preset={preset} onPreset={setPreset} locked={sftActive || !!session.sft} /> : null}
      {step === 'sft' ? <StageStep session={session} stage="sft" form={sftForm} setForm={setSftForm} extra={extra('sft')} onChange={setSession} blocked={trainable === 0 ? 'Add at least one clip that passed its checks (step 1).' : null} /> : null}
      {step === 'dpo' ? <StageStep session={session} stage="dpo" form={dpoForm} setForm={setDpoForm} extra={extra('dpo')} onChange={setSession} blocked={session.sft?.finished ? null : 'Finish the SFT stage first: DPO starts from its result.'} /> : null}
      {step === 'compare' ? <CompareStep session={session} /> : null}
      {step === 'save' ? <SaveStep session={session} onChange={setSession} /> : null}
      <div className="row">
        {index > 0 ? (
          <button className="btn" onClick={() => setStep(STEPS[index - 1]!.id)} data-testid="wizard-back">
            ← Back
          </button>
        ) : null}
        <span className="spacer" />
        {next ? (
          <button className="btn primary" onClick={() => setStep(next.id)} data-testid="wizard-next">
            Next: {next.label} →
          </button>
        ) : null}
      </div>
    </div>
  );
}
