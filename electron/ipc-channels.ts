// The Electron-only IPC channels between preload and main, as ONE typed map: each channel's name, the
// arguments the preload sends and the result main returns. The preload's `invoke` and main's `handle`
// are typed from it, so a renamed channel, a missing argument or a wrong result type breaks the
// type-check (ipc-channels.typecheck.ts) instead of the app. Main still validates every argument at
// run time: a compromised renderer can send anything, so handlers receive them as `unknown`.
// Type-only imports: the preload bundles this file, and must not pull in zod or the schemas.
import type { EventName, MethodName, RpcResult } from '../engine/service/contract.js';

export interface OpenDialogRequest {
  kind: 'image' | 'audio' | 'folder';
  title: string;
}

export interface InvokeChannels {
  /** Any contract method; main validates the name and the params (service.dispatch). */
  'refree:rpc': { args: [method: MethodName, params: unknown]; result: RpcResult<MethodName> };
  'refree:open-dialog': { args: [opts: OpenDialogRequest]; result: string | null };
  'refree:save-dialog': { args: [defaultPath: string]; result: string | null };
  /** Shows a finished file in the system's file manager. */
  'refree:reveal': { args: [path: string]; result: void };
  /** Opens a finished file with the system's default application. */
  'refree:open-path': { args: [path: string]; result: string | null };
}

/** Main → renderer pushes. */
export interface SendChannels {
  'refree:event': { args: [event: EventName, payload: unknown] };
}

export type InvokeChannel = keyof InvokeChannels;

export const IPC = {
  rpc: 'refree:rpc',
  event: 'refree:event',
  openDialog: 'refree:open-dialog',
  saveDialog: 'refree:save-dialog',
  reveal: 'refree:reveal',
  openPath: 'refree:open-path',
} as const satisfies Record<string, InvokeChannel | keyof SendChannels>;

/** What the preload needs of ipcRenderer. */
export interface InvokerLike {
  invoke(channel: string, ...args: unknown[]): Promise<unknown>;
}

/** Preload side: a typed call on one channel. */
export function invoke<C extends InvokeChannel>(r: InvokerLike, channel: C, ...args: InvokeChannels[C]['args']): Promise<InvokeChannels[C]['result']> {
  return r.invoke(channel, ...args) as Promise<InvokeChannels[C]['result']>;
}

/** Every argument as it really arrives in main: unchecked. */
export type Untrusted<T extends unknown[]> = { [K in keyof T]: unknown };

/** What main needs of ipcMain (Electron's real ipcMain fits it; see ipc-channels.typecheck.ts). */
export interface HandlerHostLike<E> {
  handle(channel: string, listener: (event: E, ...args: any[]) => unknown): void; // eslint-disable-line @typescript-eslint/no-explicit-any
}

/** Main side: registers the handler of one channel; it must return that channel's result type. */
export function handle<C extends InvokeChannel, E>(
  host: HandlerHostLike<E>,
  channel: C,
  fn: (event: E, ...args: Untrusted<InvokeChannels[C]['args']>) => Promise<InvokeChannels[C]['result']> | InvokeChannels[C]['result'],
): void {
  host.handle(channel, (event: E, ...args: unknown[]) => fn(event, ...(args as Untrusted<InvokeChannels[C]['args']>)));
}
