// Step 1, the clips: added by the file picker, by dropping files, or recorded with the webcam and the
// microphone. Each is sent to the studio and checked as it arrives (face, speech, length, frame rate);
// the list shows its thumbnail, the four checks and, for a refused clip, why and what to do.
import { useEffect, useRef, useState } from 'react';
import type { TrainingClip, TrainingSession } from '../../../../engine/service/contract.js';
import { useHost } from '../../host/host-context.js';
import { formatClock } from '../../lib/format.js';
import { bytesToBase64 } from '../../lib/recording.js';
import { useStudio } from '../../store/store.js';

const VIDEO_TYPES = ['video/webm;codecs=vp8,opus', 'video/webm;codecs=vp9,opus', 'video/webm', 'video/mp4'];
const MAX_BYTES = 4 * 1024 ** 3;
const PART_BYTES = 8 * 1024 * 1024;

function CheckMark({ ok, label, detail }: { ok: boolean; label: string; detail: string }) {
  return (
    <li className={ok ? 'ok-text' : 'error-text'} title={detail}>
      {ok ? '✓' : '✗'} {label}: <span className="muted">{detail}</span>
    </li>
  );
}

function ClipCard({ clip, onRemove, onHeldOut, locked }: { clip: TrainingClip; onRemove: () => void; onHeldOut: (v: boolean) => void; locked: boolean }) {
  const host = useHost();
  const thumb = host.mediaUrl(clip.thumbnailUrl);
  return (
    <li className={`clip ${clip.accepted ? 'accepted' : 'refused'}`} data-testid="clip" data-clip={clip.name} data-accepted={clip.accepted}>
      {thumb ? <img className="clip-thumb" src={thumb} alt={`First look at ${clip.name}`} /> : <div className="clip-thumb clip-thumb-none">no picture</div>}
      <div className="clip-body">
        <div className="row">
          <strong className="clip-name">{clip.name}</strong>
          <span className={`badge ${clip.accepted ? 'done' : 'failed'}`}>{clip.accepted ? (clip.heldOut ? 'kept for Compare' : 'will be trained on') : 'left out'}</span>
        </div>
        <ul className="checks small">
          <CheckMark ok={clip.checks.face.ok} label="Face" detail={clip.checks.face.detail} />
          <CheckMark ok={clip.checks.speech.ok} label="Speech" detail={clip.checks.speech.detail} />
          <CheckMark ok={clip.checks.length.ok} label="Length" detail={clip.checks.length.detail} />
          <CheckMark ok={clip.checks.fps.ok} label="Frame rate" detail={clip.checks.fps.detail} />
        </ul>
        {clip.reason ? (
          <p className="small clip-reason" data-testid="clip-reason">
            <strong>{clip.reason}</strong> {clip.fix}
          </p>
        ) : null}
        <div className="row small">
          {clip.accepted ? (
            <label title="Keep this clip out of training to compare before and after on it">
              <input type="checkbox" checked={clip.heldOut} disabled={locked} onChange={(e) => onHeldOut(e.target.checked)} data-testid="clip-heldout" /> Keep for the before/after comparison
            </label>
          ) : null}
          <span className="spacer" />
          <button className="btn danger" onClick={onRemove} disabled={locked} aria-label={`Remove ${clip.name}`}>
            Remove
          </button>
        </div>
      </div>
    </li>
  );
}

/** Webcam + microphone → a WebM take, uploaded like a chosen file. */
function WebcamRecorder({ onTake }: { onTake: (name: string, blob: Blob) => Promise<void> }) {
  const report = useStudio((s) => s.report);
  const [phase, setPhase] = useState<'idle' | 'starting' | 'recording' | 'uploading'>('idle');
  const [seconds, setSeconds] = useState(0);
  const video = useRef<HTMLVideoElement | null>(null);
  const rec = useRef<MediaRecorder | null>(null);
  const stream = useRef<MediaStream | null>(null);

  useEffect(
    () => () => {
      if (rec.current && rec.current.state !== 'inactive') {
        rec.current.onstop = null;
        rec.current.stop();
      }
      stream.current?.getTracks().forEach((t) => t.stop());
    },
    [],
  );
  useEffect(() => {
    if (phase !== 'recording') return;
    const t0 = Date.now();
    const t = setInterval(() => setSeconds((Date.now() - t0) / 1000), 250);
    return () => clearInterval(t);
  }, [phase]);

  const start = async () => {
    if (!navigator.mediaDevices?.getUserMedia || typeof MediaRecorder === 'undefined') {
      report(new Error('This browser cannot record from a camera here (it needs a secure page such as http://127.0.0.1 and MediaRecorder support); add a video file instead.'));
      return;
    }
    setPhase('starting');
    try {
      const s = await navigator.mediaDevices.getUserMedia({ video: { width: 640, height: 480 }, audio: true });
      stream.current = s;
      if (video.current) {
        video.current.srcObject = s;
        void video.current.play().catch(() => undefined);
      }
      const type = VIDEO_TYPES.find((t) => MediaRecorder.isTypeSupported(t)) ?? '';
      const r = new MediaRecorder(s, type ? { mimeType: type } : undefined);
      const chunks: Blob[] = [];
      r.ondataavailable = (e) => {
        if (e.data.size > 0) chunks.push(e.data);
      };
      r.onstop = () => {
        s.getTracks().forEach((t) => t.stop());
        stream.current = null;
        rec.current = null;
        if (video.current) video.current.srcObject = null;
        const mime = r.mimeType || type || 'video/webm';
        const blob = new Blob(chunks, { type: mime });
        if (blob.size === 0) {
          setPhase('idle');
          report(new Error('The recording is empty: nothing reached the browser from the camera. Check the camera and try again.'));
          return;
        }
        setPhase('uploading');
        const stampName = new Date().toISOString().replace(/[-:]/g, '').replace(/\..*/, '').replace('T', '-');
        void onTake(`recording-${stampName}.${mime.includes('mp4') ? 'mp4' : 'webm'}`, blob)
          .catch(report)
          .finally(() => setPhase('idle'));
      };
      rec.current = r;
      setSeconds(0);
      r.start(1000);
      setPhase('recording');
    } catch (e) {
      stream.current?.getTracks().forEach((t) => t.stop());
      setPhase('idle');
      report(new Error(`The camera or microphone could not be opened (${e instanceof Error ? e.message : String(e)}). Allow both for this page, or add a video file instead.`));
    }
  };

  return (
    <div className="recorder">
      <video ref={video} muted playsInline className="webcam" hidden={phase !== 'recording' && phase !== 'starting'} />
      <div className="row">
        {phase === 'recording' ? (
          <>
            <span className="badge running">● Recording {formatClock(seconds)}</span>
            <button className="btn primary" onClick={() => rec.current?.stop()} data-testid="record-stop">
              Stop and add
            </button>
          </>
        ) : (
          <button className="btn" onClick={() => void start()} disabled={phase !== 'idle'} data-testid="record-start">
            {phase === 'uploading' ? 'Checking the recording…' : phase === 'starting' ? 'Opening the camera…' : 'Record with the webcam'}
          </button>
        )}
        <span className="small muted">Look at the camera and talk for 10–30 seconds.</span>
      </div>
    </div>
  );
}

export function ClipsStep({ session, onChange, locked }: { session: TrainingSession; onChange: (s: TrainingSession) => void; locked: boolean }) {
  const host = useHost();
  const report = useStudio((s) => s.report);
  const [over, setOver] = useState(false);
  const [checking, setChecking] = useState<string[]>([]);
  const [sent, setSent] = useState<Record<string, number>>({});
  const input = useRef<HTMLInputElement | null>(null);

  const refresh = async () => onChange(await host.call('training.get', { id: session.id }));

  // Sent in parts of PART_BYTES (read from the file one part at a time), so a phone's large video
  // neither fills the page's memory nor one huge request; the last part starts the check.
  const upload = async (name: string, blob: Blob) => {
    setChecking((c) => [...c, name]);
    try {
      if (blob.size > MAX_BYTES) throw new Error(`${name} is larger than 4 GB; cut it into shorter clips (10–30 seconds each is best).`);
      if (blob.size === 0) throw new Error(`${name} is empty.`);
      for (let offset = 0; offset < blob.size; offset += PART_BYTES) {
        const bytes = new Uint8Array(await blob.slice(offset, offset + PART_BYTES).arrayBuffer());
        setSent((m) => ({ ...m, [name]: offset / blob.size }));
        await host.call('training.uploadClip', { id: session.id, name, dataBase64: bytesToBase64(bytes), offset, final: offset + PART_BYTES >= blob.size });
      }
      await refresh();
    } finally {
      setChecking((c) => c.filter((n) => n !== name));
      setSent((m) => Object.fromEntries(Object.entries(m).filter(([k]) => k !== name)));
    }
  };
  const addFiles = async (files: FileList | File[]) => {
    // One at a time: each check reads the whole clip, and the list fills in as they finish.
    for (const f of Array.from(files)) await upload(f.name, f).catch(report);
  };

  const accepted = session.clips.filter((c) => c.accepted && !c.heldOut).length;
  const refused = session.clips.filter((c) => !c.accepted).length;
  return (
    <section className="panel" data-testid="step-clips">
      <h2>1 · Your clips</h2>
      <p className="muted">
        Add a few videos of yourself talking (5 to 30 seconds each; more clips teach more). Each one is checked as it arrives: a face must be in view, there must be speech, and it must be long enough.
      </p>
      <div
        className={`dropzone${over ? ' over' : ''}`}
        tabIndex={0}
        role="button"
        aria-label="Add video clips"
        data-testid="clip-drop"
        onClick={() => input.current?.click()}
        onKeyDown={(e) => {
          if (e.key === 'Enter' || e.key === ' ') input.current?.click();
        }}
        onDragOver={(e) => {
          e.preventDefault();
          setOver(true);
        }}
        onDragLeave={() => setOver(false)}
        onDrop={(e) => {
          e.preventDefault();
          setOver(false);
          void addFiles(e.dataTransfer.files);
        }}
      >
        Drop video clips here, or <u>choose files</u> (MP4, MOV, WebM from a phone or camera)
        <input ref={input} type="file" accept="video/*,.mp4,.mov,.webm,.mkv,.m4v" multiple hidden data-testid="clip-input" onChange={(e) => e.target.files && void addFiles(e.target.files).then(() => (e.target.value = ''))} />
      </div>
      <WebcamRecorder onTake={upload} />
      {checking.length ? (
        <p className="small" data-testid="clip-checking">
          {checking.map((n) => (sent[n] !== undefined && sent[n]! > 0 ? `Sending ${n} (${Math.round(sent[n]! * 100)} %)` : `Checking ${n}`)).join(' · ')}…
        </p>
      ) : null}
      {session.clips.length ? (
        <>
          <p className="small" data-testid="clip-summary">
            {accepted} clip{accepted === 1 ? '' : 's'} will be trained on{refused ? `; ${refused} left out (see why below — training goes on without ${refused === 1 ? 'it' : 'them'})` : ''}.
          </p>
          <ul className="clip-list">
            {/* Refused clips first: they are the ones that need something done. */}
            {[...session.clips.filter((c) => !c.accepted), ...session.clips.filter((c) => c.accepted)].map((c) => (
              <ClipCard
                key={c.name}
                clip={c}
                locked={locked}
                onRemove={() => void host.call('training.removeClip', { id: session.id, clip: c.name }).then(onChange, report)}
                onHeldOut={(v) => void host.call('training.setHeldOut', { id: session.id, clip: c.name, heldOut: v }).then(onChange, report)}
              />
            ))}
          </ul>
        </>
      ) : null}
    </section>
  );
}
