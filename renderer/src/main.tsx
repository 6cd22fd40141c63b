// Entry: pick the host (Electron preload or web), build the store, wire events, load the first data.
import './lib/language-tag.js'; // first: makes navigator.language a valid tag before any library reads it
import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { App } from './App.js';
import { HostContext } from './host/host-context.js';
import { pickHost } from './host/pick-host.js';
import { bindStore, connectEvents, createStudioStore } from './store/store.js';
import './styles/tokens.css';
import './styles/app.css';

const host = pickHost();
const store = createStudioStore(host);
bindStore(store);
connectEvents(host, store);

const prefersLight = window.matchMedia?.('(prefers-color-scheme: light)').matches;
store.getState().setTheme(prefersLight ? 'light' : 'dark');
const s = store.getState();
void s.loadSettings();
// Reopen the last project, so a restart of the app (or a reload of the page) lands where work stopped.
void s.loadRecent().then(() => {
  const last = store.getState().recent[0];
  if (last && !store.getState().project) void store.getState().openProject(last.path);
});
void s.refreshJobs();
void s.refreshModels();
void s.refreshDevice();
void host.call('app.health', {}).then(
  (h) => store.setState({ engine: { state: h.engine, pid: null, message: null } }),
  (e: unknown) => s.report(e),
);

createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <HostContext.Provider value={host}>
      <App />
    </HostContext.Provider>
  </StrictMode>,
);
