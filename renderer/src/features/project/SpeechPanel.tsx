import { FilePicker } from '../../components/FilePicker.js';
import { useHost } from '../../host/host-context.js';
import { useStudio } from '../../store/store.js';
import { Recorder } from './Recorder.js';
import { Waveform } from './Waveform.js';

export function SpeechPanel() {
  const host = useHost();
  const speech = useStudio((s) => s.speech);
  const trim = useStudio((s) => s.project?.audio?.trim ?? null);
  const importSpeech = useStudio((s) => s.importSpeech);
  const importFile = useStudio((s) => s.importFile);
  const warnings = useStudio((s) => s.mediaWarnings);
  const setTrim = useStudio((s) => s.setTrim);
  const url = host.mediaUrl(speech?.url ?? null);
  const duration = speech?.duration ?? 0;
  return (
    <section className="panel" data-testid="speech-panel">
      <h2>Speech</h2>
      {speech && url ? <Waveform url={url} duration={duration} trim={trim ?? { start: 0, end: duration }} onTrim={setTrim} /> : null}
      {warnings.map((w) => (
        <p className="small warning" role="status" key={w} data-testid="media-warning">
          {w}
        </p>
      ))}
      <div style={{ marginTop: speech ? 12 : 0 }}>
        <FilePicker kind="audio" label="Choose a speech recording" accept="audio/*,video/mp4,video/webm,video/quicktime" onPath={(p) => void importSpeech(p)} onFile={(f) => void importFile(f, 'audio')} testId="speech" />
        <Recorder />
      </div>
    </section>
  );
}
