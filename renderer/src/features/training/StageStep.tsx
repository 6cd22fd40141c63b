// Steps 3 and 4, the two training stages: the settings (each with a sentence of help, the advanced ones
// folded away), then the run as a queue job — progress, time left, pause / resume / cancel / retry — and
// its charts, read from the run's metrics file through the service. The charts reload the whole history
// whenever the job reports a step, so a page reloaded mid-run shows everything so far.
import { useEffect, useMemo, useState } from 'react';
import type { JobView, TrainingEstimate, TrainingMetrics, TrainingSession } from '../../../../engine/service/contract.js';
import { ProgressBar } from '../../components/common.js';
import { useHost } from '../../host/host-context.js';
import { formatEta } from '../../lib/format.js';
import { STATE_LABEL } from '../../lib/job-status.js';
import { useStudio } from '../../store/store.js';
import type { ChartSeries } from './Chart.js';
import { Chart } from './Chart.js';
import type { FieldSpec, FormValues, Stage } from './settings-form.js';
import { DPO_FIELDS, SFT_FIELDS, formatDuration, formatGb, settingsFromForm } from './settings-form.js';

const COLORS = { loss: '#4f9cf9', trend: '#9b6cf0', acc: '#43b581', policy: '#f0a020', ref: '#a0a0a0' };

function Fields({ fields, form, setForm, disabled, stage }: { fields: FieldSpec[]; form: FormValues; setForm: (f: FormValues) => void; disabled: boolean; stage: Stage }) {
  const one = (f: FieldSpec) => (
    <div className="field help-field" key={f.key}>
      <label htmlFor={`${stage}-${f.key}`}>{f.label}</label>
      <input id={`${stage}-${f.key}`} value={form[f.key] ?? ''} disabled={disabled} inputMode={f.kind === 'list' ? 'text' : 'decimal'} onChange={(e) => setForm({ ...form, [f.key]: e.target.value })} data-testid={`${stage}-${f.key}`} />
      <span className="small muted">{f.help}</span>
    </div>
  );
  return (
    <>
      <div className="fields">{fields.filter((f) => !f.advanced).map(one)}</div>
      <details>
        <summary className="small">Advanced settings</summary>
        <div className="fields">{fields.filter((f) => f.advanced).map(one)}</div>
      </details>
    </>
  );
}

/** The estimate for the settings as typed (after a pause in typing), before the run is started. */
function useEstimate(model: string, stage: Stage, settings: Record<string, unknown> | null, skip: boolean): TrainingEstimate | null {
  const host = useHost();
  const [e, setE] = useState<TrainingEstimate | null>(null);
  const key = JSON.stringify(settings);
  useEffect(() => {
    if (skip || !settings) return setE(null);
    let live = true;
    const t = setTimeout(() => host.call('training.estimate', { model, stage, settings }).then((r) => live && setE(r), () => live && setE(null)), 400);
    return () => {
      live = false;
      clearTimeout(t);
    };
  }, [host, model, stage, key, skip]);
  return e;
}

function useMetrics(sessionId: string, stage: Stage, job: JobView | null): TrainingMetrics | null {
  const host = useHost();
  const [m, setM] = useState<TrainingMetrics | null>(null);
  const tick = `${job?.id ?? ''}:${job?.state ?? ''}:${job?.progress?.done ?? 0}`;
  useEffect(() => {
    let live = true;
    host.call('training.metrics', { id: sessionId, stage }).then((r) => live && setM(r), () => undefined);
    return () => {
      live = false;
    };
  }, [host, sessionId, stage, tick]);
  return m;
}

function Charts({ stage, metrics }: { stage: Stage; metrics: TrainingMetrics }) {
  const steps = useMemo(() => metrics.rows.map((r) => r.step), [metrics]);
  const loss = useMemo<ChartSeries[]>(() => {
    // The loss of one step jumps with the noise level drawn; the trend (a running average) is what to watch.
    let avg: number | null = null;
    const trend = metrics.rows.map((r) => (avg = avg === null ? r.loss : 0.9 * avg + 0.1 * r.loss));
    return [
      { label: 'loss', color: COLORS.loss, values: metrics.rows.map((r) => r.loss) },
      { label: 'trend', color: COLORS.trend, values: trend },
    ];
  }, [metrics]);
  const acc = useMemo<ChartSeries[]>(() => [{ label: 'implicit accuracy', color: COLORS.acc, values: metrics.rows.map((r) => r.accuracy ?? null) }], [metrics]);
  const err = useMemo<ChartSeries[]>(
    () => [
      { label: 'trained model', color: COLORS.policy, values: metrics.rows.map((r) => r.policyErrGt ?? null) },
      { label: 'reference', color: COLORS.ref, values: metrics.rows.map((r) => r.refErrGt ?? null), dash: true },
    ],
    [metrics],
  );
  return (
    <div className="charts">
      <Chart testId={`${stage}-chart-loss`} title={stage === 'sft' ? 'Loss — how far its guesses are from your clips (lower is better; it jumps around, watch the trend)' : 'DPO loss — lower means it prefers the good version more'} steps={steps} series={loss} yLabel="loss" />
      {stage === 'dpo' ? (
        <>
          <Chart testId="dpo-chart-accuracy" title="Implicit accuracy — share of pairs where it prefers the better version (higher is better; 0.5 is a coin toss)" steps={steps} series={acc} yLabel="accuracy" range={[0, 1]} />
          <Chart testId="dpo-chart-errors" title="Error on your real clips — the trained model (solid) should stay at or below the reference (dashed)" steps={steps} series={err} yLabel="error" />
        </>
      ) : null}
    </div>
  );
}

export function StageStep({ session, stage, form, setForm, extra, onChange, blocked }: { session: TrainingSession; stage: Stage; form: FormValues; setForm: (f: FormValues) => void; extra: Record<string, unknown>; onChange: (s: TrainingSession) => void; blocked: string | null }) {
  const host = useHost();
  const report = useStudio((s) => s.report);
  const info = session[stage];
  const job = useStudio((s) => (info?.jobId ? (s.jobs.find((j) => j.id === info.jobId) ?? null) : null));
  const metrics = useMetrics(session.id, stage, job);
  const [error, setError] = useState<string | null>(null);
  const fields = stage === 'sft' ? SFT_FIELDS : DPO_FIELDS;
  const active = job !== null && (job.state === 'queued' || job.state === 'running' || job.state === 'paused');
  const parsed = settingsFromForm(fields, form, extra);
  const estimate = useEstimate(session.model, stage, 'settings' in parsed ? parsed.settings : null, active);

  const start = () => {
    const r = settingsFromForm(fields, form, extra);
    if ('error' in r) return setError(r.error);
    setError(null);
    void host
      .call('training.start', { id: session.id, stage, settings: r.settings })
      .then(() => host.call('training.get', { id: session.id }))
      .then(onChange, report);
  };
  const act = (m: 'jobs.pause' | 'jobs.resume' | 'jobs.cancel' | 'jobs.retry') => job && void host.call(m, { id: job.id }).catch(report);

  const p = job?.progress;
  const last = metrics?.rows[metrics.rows.length - 1];
  const title = stage === 'sft' ? '3 · Learn your face and voice (SFT)' : '4 · Sharpen the lip sync (DPO)';
  const intro =
    stage === 'sft'
      ? 'The model watches windows of your clips and learns to make them from your photo and voice. Only a small add-on (the adapter) is trained; the base model stays as it is.'
      : 'The model makes worse versions of your clips by hiding parts of the speech, then learns to prefer the real one — this makes the lips follow the words more closely.';
  return (
    <section className="panel" data-testid={`step-${stage}`}>
      <h2>{title}</h2>
      <p className="muted">{intro}</p>
      {job ? (
        <details className="run-settings">
          <summary className="small">Settings of this run{active ? '' : ' — change them and start again'}</summary>
          <Fields fields={fields} form={form} setForm={setForm} disabled={active} stage={stage} />
        </details>
      ) : (
        <Fields fields={fields} form={form} setForm={setForm} disabled={active} stage={stage} />
      )}
      {error ? <p className="field-error" role="alert">{error}</p> : null}
      <div className="row run-controls">
        {active ? null : (
          <button className={`btn${job ? '' : ' primary'}`} onClick={start} disabled={blocked !== null} data-testid={`${stage}-start`}>
            {job ? `Start ${stage.toUpperCase()} again (replaces this run)` : `Start ${stage.toUpperCase()}`}
          </button>
        )}
        {blocked ? <span className="small warning">{blocked}</span> : null}
        {!active && !blocked && estimate ? (
          <span className={`small ${estimate.fits ? 'muted' : 'warning'}`} data-testid={`${stage}-estimate`}>
            {estimate.fits ? `Needs about ${formatGb(estimate.peakBytes)}; training ${formatDuration(estimate.totalSeconds)} on ${estimate.device}, plus preparing the clips.` : `⚠ ${estimate.warning}`}
          </span>
        ) : null}
        {job ? (
          <>
            <span className={`badge ${job.state}`} data-testid={`${stage}-state`}>
              {STATE_LABEL[job.state]}
            </span>
            {job.state === 'running' || job.state === 'queued' ? (
              <button className="btn" onClick={() => act('jobs.pause')} data-testid={`${stage}-pause`}>
                Pause
              </button>
            ) : null}
            {job.state === 'paused' ? (
              <button className="btn" onClick={() => act('jobs.resume')} data-testid={`${stage}-resume`}>
                Resume
              </button>
            ) : null}
            {active ? (
              <button className="btn danger" onClick={() => act('jobs.cancel')} data-testid={`${stage}-cancel`}>
                Cancel
              </button>
            ) : null}
            {job.state === 'failed' || job.state === 'cancelled' ? (
              <button className="btn" onClick={() => act('jobs.retry')} data-testid={`${stage}-retry`}>
                Retry from the last checkpoint
              </button>
            ) : null}
          </>
        ) : null}
      </div>
      {job ? (
        <div className="run-status" data-testid={`${stage}-status`}>
          {p && p.total > 0 ? <ProgressBar done={p.done} total={p.total} label={`${stage} progress`} /> : null}
          {job.state === 'running' || job.state === 'queued' ? (
          <p className="small">
            {p?.message ?? (job.state === 'queued' ? 'Waiting for the engine (one training or export runs at a time).' : '')}
            {p?.etaSeconds !== null && p?.etaSeconds !== undefined && job.state === 'running' ? ` · ${formatEta(p.etaSeconds)} left` : ''}
            {job.recoveries > 0 ? ` · resumed from its checkpoint after ${job.recoveries === 1 ? 'a restart' : `${job.recoveries} restarts`}` : ''}
          </p>
          ) : null}
          {job.state === 'done' ? <p className="small ok-text">Finished: the adapter is ready{stage === 'sft' ? '. DPO (next) sharpens the lip sync; you can also go straight to Compare or Save.' : '. Compare it with the base model next, then save it.'}{job.recoveries > 0 ? ` It resumed from its checkpoint after ${job.recoveries === 1 ? 'a restart' : `${job.recoveries} restarts`}.` : ''}</p> : null}
          {job.state === 'paused' ? <p className="small">Paused{p && p.total > 0 ? ` after step ${p.done} of ${p.total}` : ''}, at a saved checkpoint: Resume continues from there, even after closing the studio.</p> : null}
          {job.error && job.state === 'failed' ? <p className="small error-text">{job.error.message}</p> : null}
        </div>
      ) : null}
      {metrics && metrics.rows.length > 0 ? (
        <>
          <p className="small" data-testid={`${stage}-metrics-line`} hidden={active}>
            Step {last!.step} of {metrics.steps} · loss {last!.loss.toPrecision(3)}
            {last!.accuracy !== undefined ? ` · accuracy ${(last!.accuracy * 100).toFixed(0)} %` : ''}
          </p>
          <Charts stage={stage} metrics={metrics} />
          {metrics.samples.length ? (
            <div data-testid={`${stage}-samples`}>
              <h3 className="small">Sample videos so far (made with the adapter as it was at that step)</h3>
              <div className="samples">
                {metrics.samples.map((s) => (
                  <figure key={s.step}>
                    <video src={host.mediaUrl(s.url) ?? undefined} controls muted preload="metadata" />
                    <figcaption className="small muted">after step {s.step}</figcaption>
                  </figure>
                ))}
              </div>
            </div>
          ) : null}
        </>
      ) : job ? (
        <p className="small muted">The chart appears with the first training step (the clips are prepared first).</p>
      ) : null}
    </section>
  );
}
