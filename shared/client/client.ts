/**
 * The client library contract used by etlctl and etl-console. The implementation
 * (`ws-client.ts`) speaks the protocol of `shared/protocol.ts` over a Unix socket or TCP,
 * validates every frame it receives, and reconnects a bounded number of times with backoff.
 */
import type {
  AccessRole,
  EventData,
  EventName,
  MethodName,
  MethodParamsInput,
  MethodResult,
} from '../protocol.js';

export type ConnectionState = 'connecting' | 'connected' | 'disconnected' | 'closed';

export interface CallOptions {
  readonly signal?: AbortSignal;
  /** Default 30 s; `0` waits forever (e.g. long `logs` reads). */
  readonly timeoutMs?: number;
}

export interface DaemonClient {
  readonly state: ConnectionState;
  /**
   * What the daemon lets this connection do, from its hello: `read-only` on the read-only socket or
   * with the read-only token (every call that changes state is refused with READ_ONLY).
   */
  readonly role: AccessRole;
  /** Rejects with EtlError carrying the daemon's `{code, message, retryable}`, or DAEMON_UNREACHABLE. */
  call<M extends MethodName>(
    method: M,
    params?: MethodParamsInput<M>,
    options?: CallOptions,
  ): Promise<MethodResult<M>>;
  onEvent<E extends EventName>(event: E, listener: (data: EventData<E>) => void): () => void;
  onState(listener: (state: ConnectionState, detail: string | null) => void): () => void;
  close(): Promise<void>;
}

export interface ClientOptions {
  /** Unix socket path (default transport). */
  readonly socketPath?: string;
  /** `ws://127.0.0.1:7070` for the TCP listener; requires `token`. */
  readonly url?: string;
  readonly token?: string;
  /** e.g. `etlctl/0.1.0`, sent in `hello`. */
  readonly clientName: string;
  /** The login running the client, sent in `hello`: the daemon records it with the changes and runs it asks for. */
  readonly user?: string;
  /** Bounded reconnect with exponential backoff; `false` for one-shot CLI calls. */
  readonly reconnect?:
    false | { readonly attempts: number; readonly initialDelayMs: number; readonly maxDelayMs: number };
  /** Subscription (re)sent after every successful (re)connect. */
  readonly subscribe?: MethodParamsInput<'subscribe'>;
}
