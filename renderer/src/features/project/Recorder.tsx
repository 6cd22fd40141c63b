// Recording the speech with the microphone: getUserMedia + MediaRecorder; Stop uploads the recording
// through media.upload (the engine may run on another machine than the browser, so bytes, not a path)
// and it becomes the project's speech like an imported file. When the project already has a speech,
// Record asks first: the earlier one stays in the media bin, but the project stops using it.
import { useEffect, useRef, useState } from 'react';
import { formatClock } from '../../lib/format.js';
import { bytesToBase64, pickRecordingType, recordingName } from '../../lib/recording.js';
import { useStudio } from '../../store/store.js';

type Phase = 'idle' | 'confirm' | 'starting' | 'recording' | 'uploading';

export function Recorder() {
  const uploadSpeech = useStudio((s) => s.uploadSpeech);
  const report = useStudio((s) => s.report);
  const hasSpeech = useStudio((s) => s.speech !== null);
  const [phase, setPhase] = useState<Phase>('idle');
  const [seconds, setSeconds] = useState(0);
  const recorder = useRef<MediaRecorder | null>(null);
  const stream = useRef<MediaStream | null>(null);

  // Leaving the screen mid-recording releases the microphone and drops the take.
  useEffect(
    () => () => {
      if (recorder.current && recorder.current.state !== 'inactive') {
        recorder.current.ondataavailable = null;
        recorder.current.onstop = null;
        recorder.current.stop();
      }
      stream.current?.getTracks().forEach((t) => t.stop());
    },
    [],
  );

  useEffect(() => {
    if (phase !== 'recording') return;
    const started = Date.now();
    const t = setInterval(() => setSeconds((Date.now() - started) / 1000), 250);
    return () => clearInterval(t);
  }, [phase]);

  const start = async () => {
    if (!navigator.mediaDevices?.getUserMedia || typeof MediaRecorder === 'undefined') {
      report(new Error('This browser cannot record from a microphone here (it needs a secure page such as http://127.0.0.1 and MediaRecorder support); import a recording instead.'));
      return;
    }
    setPhase('starting');
    try {
      const s = await navigator.mediaDevices.getUserMedia({ audio: true });
      stream.current = s;
      const type = pickRecordingType((t) => MediaRecorder.isTypeSupported(t));
      const r = new MediaRecorder(s, type ? { mimeType: type } : undefined);
      const chunks: Blob[] = [];
      r.ondataavailable = (e) => {
        if (e.data.size > 0) chunks.push(e.data);
      };
      r.onstop = () => {
        s.getTracks().forEach((t) => t.stop());
        stream.current = null;
        recorder.current = null;
        const mime = r.mimeType || type;
        const blob = new Blob(chunks, { type: mime });
        if (blob.size === 0) {
          setPhase('idle');
          report(new Error('The recording is empty: no sound reached the browser. Check the microphone and try again.'));
          return;
        }
        setPhase('uploading');
        void blob
          .arrayBuffer()
          .then((buf) => uploadSpeech(recordingName(new Date(), mime), bytesToBase64(new Uint8Array(buf))))
          .catch(report)
          .finally(() => setPhase('idle'));
      };
      recorder.current = r;
      setSeconds(0);
      // A timeslice makes the browser hand over data as it goes, so a long take is not one huge final chunk.
      r.start(1000);
      setPhase('recording');
    } catch (e) {
      stream.current?.getTracks().forEach((t) => t.stop());
      stream.current = null;
      setPhase('idle');
      const denied = e instanceof DOMException && (e.name === 'NotAllowedError' || e.name === 'SecurityError');
      const missing = e instanceof DOMException && (e.name === 'NotFoundError' || e.name === 'OverconstrainedError');
      const busy = e instanceof DOMException && e.name === 'NotReadableError';
      report(
        denied
          ? new Error('The microphone was not allowed: allow this page to use it in the browser, or import a recording instead.')
          : missing
            ? new Error('No microphone was found: plug one in (or turn it on in the system settings) and try again, or import a recording instead.')
            : busy
              ? new Error('The microphone is in use by another program or could not be started; close that program and try again.')
              : e,
      );
    }
  };

  const stop = () => {
    recorder.current?.stop();
  };

  if (phase === 'confirm') {
    return (
      <div className="row" style={{ marginTop: 8 }} role="alertdialog" aria-label="Replace the speech?" data-testid="record-confirm">
        <span className="small">Replace the current speech with a new recording? The current one stays in the media bin.</span>
        <button className="btn primary" onClick={() => void start()} data-testid="record-replace">
          Record and replace
        </button>
        <button className="btn" onClick={() => setPhase('idle')} data-testid="record-keep">
          Keep the current speech
        </button>
      </div>
    );
  }

  return (
    <div className="row" style={{ marginTop: 8 }}>
      {phase === 'recording' ? (
        <button className="btn" onClick={stop} data-testid="record-stop">
          Stop
        </button>
      ) : (
        <button className="btn" onClick={() => (hasSpeech ? setPhase('confirm') : void start())} disabled={phase !== 'idle'} data-testid="record-start">
          Record
        </button>
      )}
      <span className="small muted" data-testid="record-status">
        {phase === 'recording' ? `Recording… ${formatClock(seconds)}` : phase === 'starting' ? 'Asking for the microphone…' : phase === 'uploading' ? 'Uploading the recording…' : 'Record the speech with your microphone'}
      </span>
    </div>
  );
}
