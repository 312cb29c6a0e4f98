/**
 * A test double of DaemonClient (the interface, not the WebSocket implementation): method
 * handlers answer calls, and the test pushes events and connection states.
 */
import type { CallOptions, ConnectionState, DaemonClient } from '../../shared/client/client.js';
import { EtlError } from '../../shared/errors.js';
import type {
  AccessRole,
  EventData,
  EventName,
  MethodName,
  MethodParamsInput,
  MethodResult,
} from '../../shared/protocol.js';

export type Handlers = {
  [M in MethodName]?: (
    params: MethodParamsInput<M> | undefined,
  ) => MethodResult<M> | Promise<MethodResult<M>>;
};

export interface RecordedCall {
  readonly method: MethodName;
  readonly params: unknown;
}

export class FakeClient implements DaemonClient {
  #state: ConnectionState;
  readonly calls: RecordedCall[] = [];
  readonly #handlers: Handlers;
  readonly #events = new Map<string, Set<(data: unknown) => void>>();
  readonly #stateListeners = new Set<(state: ConnectionState, detail: string | null) => void>();
  closed = false;
  role: AccessRole = 'operator';

  constructor(handlers: Handlers, state: ConnectionState = 'connected') {
    this.#handlers = handlers;
    this.#state = state;
  }

  get state(): ConnectionState {
    return this.#state;
  }

  call<M extends MethodName>(
    method: M,
    params?: MethodParamsInput<M>,
    _options?: CallOptions,
  ): Promise<MethodResult<M>> {
    this.calls.push({ method, params });
    if (this.#state !== 'connected') {
      return Promise.reject(new EtlError('DAEMON_UNREACHABLE', `fake daemon is ${this.#state}`));
    }
    const handler = this.#handlers[method];
    if (handler === undefined)
      return Promise.reject(new EtlError('UNKNOWN_METHOD', `fake daemon has no "${method}"`));
    try {
      return Promise.resolve(handler(params));
    } catch (error) {
      return Promise.reject(error instanceof Error ? error : new Error(String(error)));
    }
  }

  onEvent<E extends EventName>(event: E, listener: (data: EventData<E>) => void): () => void {
    let set = this.#events.get(event);
    if (set === undefined) {
      set = new Set();
      this.#events.set(event, set);
    }
    const wrapped = listener as (data: unknown) => void;
    set.add(wrapped);
    return () => set.delete(wrapped);
  }

  onState(listener: (state: ConnectionState, detail: string | null) => void): () => void {
    this.#stateListeners.add(listener);
    return () => this.#stateListeners.delete(listener);
  }

  async close(): Promise<void> {
    this.closed = true;
    this.setState('closed', null);
    await Promise.resolve();
  }

  emit<E extends EventName>(event: E, data: EventData<E>): void {
    for (const listener of this.#events.get(event) ?? []) listener(data);
  }

  setState(state: ConnectionState, detail: string | null): void {
    this.#state = state;
    for (const listener of [...this.#stateListeners]) listener(state, detail);
  }

  callsOf(method: MethodName): RecordedCall[] {
    return this.calls.filter((c) => c.method === method);
  }

  listenerCount(event: EventName): number {
    return this.#events.get(event)?.size ?? 0;
  }
}
