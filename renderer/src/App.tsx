// The shell: navigation on the left, one screen at a time on the right, the error banner on top.
import { useEffect } from 'react';
import { Notices } from './components/common.js';
import { GenerateScreen } from './features/generate/GenerateScreen.js';
import { ProjectScreen } from './features/project/ProjectScreen.js';
import { QueueScreen } from './features/queue/QueueScreen.js';
import { SettingsScreen } from './features/settings/SettingsScreen.js';
import { TrainingScreen } from './features/training/TrainingScreen.js';
import { queueSummary } from './lib/job-status.js';
import type { Screen } from './store/types.js';
import { useStudio } from './store/store.js';

const NAV: { screen: Screen; label: string; note?: string }[] = [
  { screen: 'project', label: 'Project' },
  { screen: 'generate', label: 'Generate' },
  { screen: 'queue', label: 'Queue' },
  { screen: 'training', label: 'Training' },
  { screen: 'settings', label: 'Settings' },
];

function ActiveJobs() {
  const summary = useStudio((s) => queueSummary(s.jobs));
  const engine = useStudio((s) => s.engine.state);
  return (
    <p className="small muted" style={{ margin: '0 12px' }} data-testid="status-line">
      Engine: {engine}
      <br />
      {summary}
    </p>
  );
}

export function App() {
  const screen = useStudio((s) => s.screen);
  const setScreen = useStudio((s) => s.setScreen);
  const theme = useStudio((s) => s.theme);
  useEffect(() => {
    document.documentElement.dataset.theme = theme;
  }, [theme]);
  return (
    <div className="app">
      <nav className="nav" aria-label="Screens">
        <h1>ReFree Studio</h1>
        {NAV.map((n) => (
          <button key={n.screen} aria-current={screen === n.screen ? 'page' : undefined} onClick={() => setScreen(n.screen)} data-testid={`nav-${n.screen}`}>
            {n.label}
            {n.note ? <span className="nav-note">{n.note}</span> : null}
          </button>
        ))}
        <div className="spacer" />
        <ActiveJobs />
      </nav>
      <main className="main">
        <Notices />
        {screen === 'project' ? <ProjectScreen /> : null}
        {screen === 'generate' ? <GenerateScreen /> : null}
        {screen === 'queue' ? <QueueScreen /> : null}
        {screen === 'training' ? <TrainingScreen /> : null}
        {screen === 'settings' ? <SettingsScreen /> : null}
      </main>
    </div>
  );
}
