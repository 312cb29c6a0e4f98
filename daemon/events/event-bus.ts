import type { EventData, EventName } from '../../shared/protocol.js';

type Listener<E extends EventName> = (data: EventData<E>) => void;

/**
 * In-process publish/subscribe of the protocol's events. The control server subscribes like any
 * other listener (Vitest's WebSocketReporter idea); listeners must not throw.
 */
export class EventBus {
  readonly #listeners = new Map<EventName, Set<Listener<EventName>>>();

  on<E extends EventName>(event: E, listener: Listener<E>): () => void {
    let set = this.#listeners.get(event);
    if (!set) {
      set = new Set();
      this.#listeners.set(event, set);
    }
    set.add(listener);
    return () => set.delete(listener);
  }

  emit<E extends EventName>(event: E, data: EventData<E>): void {
    const set = this.#listeners.get(event);
    if (!set) return;
    for (const listener of set) (listener as Listener<E>)(data);
  }
}
