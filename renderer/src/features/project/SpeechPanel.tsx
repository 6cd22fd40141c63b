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
  const setTrim = useStudio((s) => s.setTrim);
  const url = host.mediaUrl(speech?.url ?? null);
  const duration = speech?.duration ?? 0;
  return (
    <section className="panel" data-testid="speech-panel">
      <h2>Speech</h2>
      {speech && url ? <Waveform url={url} duration={duration} trim={trim ?? { start: 0, end: duration }} onTrim={setTrim} /> : null}
      <div style={{ marginTop: speech ? 12 : 0 }}>
        <FilePicker kind="audio" label="Choose a speech recording" accept="audio/*" onPath={(p) => void importSpeech(p)} testId="speech" />
        <Recorder />
      </div>
    </section>
  );
}
