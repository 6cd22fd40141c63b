// What the renderer needs from its host: the service contract (ServiceClient, typed from
// engine/service/contract.ts — type-only import, no engine code in the bundle) plus the few things that
// differ between Electron and a browser: file dialogs, turning a dropped File into a path the engine
// can read, media URLs, and revealing an output.
import type { MediaInfo, ServiceClient } from '../../../engine/service/contract.js';

export type HostKind = 'web' | 'electron';

export interface OpenDialogOptions {
  kind: 'image' | 'audio' | 'folder';
  title: string;
}

export interface StudioHost extends ServiceClient {
  readonly kind: HostKind;
  /** A native open dialog (Electron). The web host has none and returns null: the UI then offers upload/path entry. */
  openDialog(opts: OpenDialogOptions): Promise<string | null>;
  /** A native save dialog; null when cancelled or unavailable. */
  saveDialog(defaultPath: string): Promise<string | null>;
  /**
   * Imports a chosen, dropped or pasted File into the project: Electron hands the engine the file's own
   * path (media.import); the web host streams the bytes to /api/upload, reporting progress.
   */
  importFile(file: File, kind: 'image' | 'audio', project: string, onProgress?: (sent: number, total: number) => void): Promise<MediaInfo>;
  /** A service media URL (/media/...) → one this document can load (the web host adds its token). */
  mediaUrl(url: string | null): string | null;
  /** Shows a file in the system file manager (Electron); the web host downloads it instead. */
  reveal(path: string, url: string | null): Promise<void>;
  /** Opens a file with the system's default application (Electron) or in a new tab (web). */
  open(path: string, url: string | null): Promise<void>;
  /** Saves a copy through the browser (web) — a download link; null when the host has none (Electron reveals instead). */
  downloadUrl(url: string | null): string | null;
  /** Called after the event stream reconnects (a host restart): mirrors must re-fetch. */
  onReconnect(cb: () => void): () => void;
}

/** Thrown by clients for a failed call: `code` from the service's ErrorInfo, `message` for people. */
export class HostCallError extends Error {
  override name = 'HostCallError';
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

export function errorMessage(e: unknown): string {
  if (e instanceof Error) return e.message;
  return String(e);
}
