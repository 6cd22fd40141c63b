// One renderer, two hosts: the preload's `window.refree` means Electron; otherwise the web host.
import { ElectronHost } from './electron-client.js';
import type { StudioHost } from './host.js';
import type { RefreePreloadApi } from './preload-api.js';
import { readToken, WebHost } from './web-client.js';

declare global {
  interface Window {
    refree?: RefreePreloadApi;
  }
}

export function pickHost(): StudioHost {
  if (window.refree) return new ElectronHost(window.refree);
  return new WebHost(readToken(window.location, window.sessionStorage));
}
