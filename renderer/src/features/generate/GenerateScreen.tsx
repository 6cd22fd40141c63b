// Generate: settings, a cheap preview of the first seconds with live frames, progress, ETA and
// cancel; the finished preview plays with its audio (one <video> element, so sound stays in sync).
import { useState } from 'react';
import { Empty, Field, ProgressBar } from '../../components/common.js';
import { useHost } from '../../host/host-context.js';
import { formatEta, percent } from '../../lib/format.js';
import { useStudio } from '../../store/store.js';
import { SettingsForm } from './SettingsForm.js';

const NO_FRAMES: string[] = [];

export function GenerateScreen() {
  const host = useHost();
  const project = useStudio((s) => s.project);
  const previewJobId = useStudio((s) => s.previewJobId);
  const job = useStudio((s) => s.jobs.find((j) => j.id === s.previewJobId) ?? null);
  const frames = useStudio((s) => (s.previewJobId ? (s.frames[s.previewJobId] ?? NO_FRAMES) : NO_FRAMES));
  const startPreview = useStudio((s) => s.startPreview);
  const jobAction = useStudio((s) => s.jobAction);
  const setScreen = useStudio((s) => s.setScreen);
  const [seconds, setSeconds] = useState(3);

  const ready = Boolean(project?.portrait && project.audio);
  const running = job?.state === 'running' || job?.state === 'queued';
  const video = host.mediaUrl(job?.state === 'done' ? job.outputUrl : null);
  const live = host.mediaUrl(job?.previewUrl ?? null);

  return (
    <div data-testid="screen-generate">
      <h1 className="screen-title">Generate</h1>
      {!ready ? (
        <Empty title="Add a portrait and speech first" testId="generate-empty">
          <p>The preview needs both. <button className="btn" onClick={() => setScreen('project')}>Go to Project</button></p>
        </Empty>
      ) : (
        <>
          <section className="panel">
            <h2>Settings</h2>
            <SettingsForm />
          </section>
          <section className="panel">
            <h2>Preview</h2>
            <div className="row">
              <Field label="Seconds">
                <input type="number" min={1} max={30} value={seconds} onChange={(e) => setSeconds(Number(e.target.value))} data-testid="preview-seconds" />
              </Field>
              <button className="btn primary" disabled={running} onClick={() => void startPreview(seconds)} data-testid="generate-preview">
                Generate preview
              </button>
              {job && running ? (
                <button className="btn danger" onClick={() => void jobAction(job.id, 'cancel')} data-testid="cancel-preview">
                  Cancel
                </button>
              ) : null}
            </div>
            {job ? (
              <div style={{ marginTop: 12 }} data-testid="preview-status">
                <div className="row">
                  <span className={`badge ${job.state}`} data-testid="preview-state">{job.state}</span>
                  {job.progress ? (
                    <>
                      <ProgressBar done={job.progress.done} total={job.progress.total} label="Preview progress" />
                      <span className="small">{percent(job.progress.done, job.progress.total)}%</span>
                      <span className="small muted">{job.progress.message}</span>
                      {running ? <span className="small muted">{formatEta(job.progress.etaSeconds) ?? 'estimating…'}</span> : null}
                    </>
                  ) : null}
                </div>
                {job.error ? <p className="error">{job.error.message}</p> : null}
              </div>
            ) : previewJobId ? null : (
              <p className="muted">A preview renders the first seconds of the trimmed speech at low cost, so you can check the crop and settings before a full export.</p>
            )}
            {running && (live || frames.length > 0) ? (
              <div className="frames" data-testid="live-frames" style={{ marginTop: 12 }}>
                {(frames.length ? frames.map((f) => host.mediaUrl(f) ?? f) : [live!]).map((f, i) => (
                  <img key={`${f}-${i}`} src={f} alt={`Frame ${i + 1}`} />
                ))}
              </div>
            ) : null}
            {video ? (
              <div style={{ marginTop: 12 }}>
                <video src={video} controls data-testid="preview-video" />
              </div>
            ) : null}
          </section>
        </>
      )}
    </div>
  );
}
