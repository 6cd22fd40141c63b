// The desktop host's main process (DESIGN 8, 10): one instance; one sandboxed, context-isolated window
// on the refree-app:// origin with a CSP; navigation and new windows locked; the studio service in this
// process with the engine in a utilityProcess; IPC answered only for the app's own page; the Range-aware
// media protocol; native dialogs and a menu.
import { app, BrowserWindow, dialog, ipcMain, Menu, protocol, session, shell, utilityProcess } from 'electron';
import type { IpcMainInvokeEvent, MenuItemConstructorOptions, OpenDialogOptions } from 'electron';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { tsxExecArgv } from '../engine/runtime/transport.js';
import { cleanEngineTemp, engineEnv, engineTempDir, StudioService } from '../engine/service/service.js';
import { APP_ORIGIN, APP_SCHEME, createAppHandler, isAppUrl } from './app-protocol.js';
import { handle, IPC } from './ipc-channels.js';
import type { MethodName, RpcResult } from '../engine/service/contract.js';
import { UPLOAD_AUDIO_EXTENSIONS, UPLOAD_IMAGE_EXTENSIONS } from '../engine/service/contract.js';
import { createMediaHandler, MEDIA_SCHEME } from './media-protocol.js';
import { UtilityEngineRunner } from './utility-runner.js';

// out/electron/main.js → the repository (or app.asar) root.
const here = path.dirname(fileURLToPath(import.meta.url));
const appRoot = path.resolve(here, '..', '..');
const rendererDir = path.join(appRoot, 'out', 'renderer');
const assetsDir = path.join(appRoot, 'assets');

protocol.registerSchemesAsPrivileged([
  { scheme: APP_SCHEME, privileges: { standard: true, secure: true, supportFetchAPI: true } },
  // stream: true so media elements can read partial (206) bodies as they arrive.
  { scheme: MEDIA_SCHEME, privileges: { standard: true, secure: true, supportFetchAPI: true, stream: true } },
]);

if (!app.requestSingleInstanceLock()) {
  app.quit();
  process.exit(0);
}

let win: BrowserWindow | null = null;
let service: StudioService | null = null;

function fromApp(e: IpcMainInvokeEvent): boolean {
  return Boolean(e.senderFrame && isAppUrl(e.senderFrame.url));
}

function createWindow(): BrowserWindow {
  const w = new BrowserWindow({
    width: 1280,
    height: 860,
    minWidth: 900,
    minHeight: 600,
    title: 'ReFree Studio',
    backgroundColor: '#15171c',
    show: false,
    webPreferences: {
      preload: path.join(here, 'preload.cjs'),
      sandbox: true,
      contextIsolation: true,
      nodeIntegration: false,
      webSecurity: true,
      spellcheck: false,
    },
  });
  w.once('ready-to-show', () => w.show());
  void w.loadURL(`${APP_ORIGIN}/index.html`);
  return w;
}

/** Navigation and window.open are locked: only the app's own URL loads; links open in the system browser. */
function lockDown(): void {
  app.on('web-contents-created', (_e, contents) => {
    contents.on('will-navigate', (ev, url) => {
      if (!isAppUrl(url)) ev.preventDefault();
    });
    contents.on('will-redirect', (ev, url) => {
      if (!isAppUrl(url)) ev.preventDefault();
    });
    contents.on('will-attach-webview', (ev) => ev.preventDefault());
    contents.setWindowOpenHandler(({ url }) => {
      if (/^https:\/\//.test(url)) void shell.openExternal(url);
      return { action: 'deny' };
    });
  });
  // The microphone (speech recording) is the only permission the studio asks for.
  session.defaultSession.setPermissionRequestHandler((wc, permission, cb) => cb(permission === 'media' && isAppUrl(wc.getURL())));
  session.defaultSession.setPermissionCheckHandler((_wc, permission, origin) => permission === 'media' && isAppUrl(origin));
}

function menu(): void {
  const template: MenuItemConstructorOptions[] = [
    ...(process.platform === 'darwin' ? [{ role: 'appMenu' as const }] : []),
    { label: 'File', submenu: [{ label: 'Open the data folder', click: () => service && void shell.openPath(service.dataDir) }, { type: 'separator' }, { role: 'quit' }] },
    { role: 'editMenu' },
    { label: 'View', submenu: [{ role: 'reload' }, { role: 'toggleDevTools' }, { type: 'separator' }, { role: 'resetZoom' }, { role: 'zoomIn' }, { role: 'zoomOut' }, { type: 'separator' }, { role: 'togglefullscreen' }] },
    { role: 'windowMenu' },
    { role: 'help', submenu: [{ label: 'ReFree Studio on the web', click: () => void shell.openExternal('https://github.com/') }] },
  ];
  Menu.setApplicationMenu(Menu.buildFromTemplate(template));
}

function ipc(svc: StudioService): void {
  handle(ipcMain, IPC.rpc, async (e, method, params) => {
    if (!fromApp(e)) return { ok: false, error: { code: 'forbidden', message: 'Only the studio window may call the service.' } };
    return (await svc.dispatch(method, params)) as RpcResult<MethodName>;
  });
  handle(ipcMain, IPC.openDialog, async (e, opts) => {
    if (!fromApp(e) || !win) return null;
    const o0 = (typeof opts === 'object' && opts !== null ? opts : {}) as { kind?: unknown; title?: unknown };
    const kind = o0.kind === 'image' || o0.kind === 'audio' || o0.kind === 'folder' ? o0.kind : 'image';
    const o: OpenDialogOptions = {
      title: typeof o0.title === 'string' ? o0.title.slice(0, 200) : 'Open',
      properties: kind === 'folder' ? ['openDirectory', 'createDirectory'] : ['openFile'],
      filters: kind === 'image' ? [{ name: 'Images', extensions: [...UPLOAD_IMAGE_EXTENSIONS] }] : kind === 'audio' ? [{ name: 'Audio', extensions: [...UPLOAD_AUDIO_EXTENSIONS] }] : [],
    };
    const r = await dialog.showOpenDialog(win, o);
    return r.canceled ? null : (r.filePaths[0] ?? null);
  });
  handle(ipcMain, IPC.saveDialog, async (e, defaultPath) => {
    if (!fromApp(e) || !win) return null;
    const r = await dialog.showSaveDialog(win, { defaultPath: typeof defaultPath === 'string' ? defaultPath : 'refree-export.mp4', filters: [{ name: 'Video', extensions: ['mp4', 'webm'] }] });
    return r.canceled ? null : (r.filePath ?? null);
  });
  handle(ipcMain, IPC.reveal, (e, p) => {
    if (!fromApp(e) || typeof p !== 'string' || !path.isAbsolute(p)) return;
    shell.showItemInFolder(p);
  });
  handle(ipcMain, IPC.openPath, async (e, p) => {
    if (!fromApp(e) || typeof p !== 'string' || !path.isAbsolute(p)) return 'Only a finished file of the studio can be opened.';
    // shell.openPath answers '' on success, else a reason.
    const problem = await shell.openPath(p);
    return problem ? `${p} could not be opened: ${problem}` : null;
  });
  svc.on((event, payload) => {
    if (win && !win.isDestroyed()) win.webContents.send(IPC.event, event, payload);
  });
}

app.on('second-instance', () => {
  if (win) {
    if (win.isMinimized()) win.restore();
    win.focus();
  }
});

app.on('window-all-closed', () => {
  if (process.platform !== 'darwin') app.quit();
});

app.on('before-quit', () => {
  void service?.close();
});

void app.whenReady().then(async () => {
  lockDown();
  menu();
  protocol.handle(APP_SCHEME, createAppHandler(rendererDir));
  // The engine runs from its TypeScript sources through tsx (a runtime dependency): its job modules
  // load the pipeline lazily by URL, which a bundle would cut off.
  // REFREE_DATA_DIR: a separate data folder (the e2e tests use a temporary one).
  const dataDir = process.env.REFREE_DATA_DIR || path.join(app.getPath('userData'), 'studio');
  const engineTmp = engineTempDir(dataDir);
  const runner = new UtilityEngineRunner({
    utilityProcess,
    entry: path.join(appRoot, 'engine', 'runtime', 'engine-process.ts'),
    execArgv: tsxExecArgv(),
    engineJob: (kind) => (kind === 'training' ? 'studio.train' : 'studio.generate'),
    jobModules: [path.join(appRoot, 'engine', 'jobs', 'studio-jobs.ts')],
    env: engineEnv(engineTmp),
    onState: (state, pid, message) => {
      // A new engine is about to start: what a killed one left in its temp folder goes first.
      if (state === 'starting') cleanEngineTemp(engineTmp);
      service?.reportEngineState(state, pid, message);
    },
  });
  service = await StudioService.create({ dataDir, assetsDir, runner });
  const svc = service;
  protocol.handle(MEDIA_SCHEME, createMediaHandler(() => svc.roots()));
  ipc(svc);
  win = createWindow();
  app.on('activate', () => {
    if (BrowserWindow.getAllWindows().length === 0) win = createWindow();
  });
});
