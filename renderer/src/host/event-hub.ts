// A tiny typed listener registry shared by both host clients.
import type { EventName, Events } from '../../../engine/service/contract.js';

type Listener = (payload: never) => void;

export class EventHub {
  private readonly listeners = new Map<string, Set<Listener>>();
  private readonly reconnect = new Set<() => void>();

  on<E extends EventName>(event: E, cb: (payload: Events[E]) => void): () => void {
    let set = this.listeners.get(event);
    if (!set) this.listeners.set(event, (set = new Set()));
    set.add(cb as Listener);
    return () => set.delete(cb as Listener);
  }

  emit(event: string, payload: unknown): void {
    for (const cb of this.listeners.get(event) ?? []) (cb as (p: unknown) => void)(payload);
  }

  onReconnect(cb: () => void): () => void {
    this.reconnect.add(cb);
    return () => this.reconnect.delete(cb);
  }

  emitReconnect(): void {
    for (const cb of this.reconnect) cb();
  }
}
