import { WebSocket, type RawData } from 'ws';
import { cancelledError, EtlError, type ErrorCode } from '../errors.js';
import {
  EVENTS,
  isEventName,
  METHODS,
  PROTOCOL_VERSION,
  serverFrameSchema,
  type AccessRole,
  type EventData,
  type EventName,
  type MethodName,
  type MethodParamsInput,
  type MethodResult,
} from '../protocol.js';
import type { CallOptions, ClientOptions, ConnectionState, DaemonClient } from './client.js';

const DEFAULT_TIMEOUT_MS = 30_000;
const HELLO_TIMEOUT_MS = 10_000;
/** Replies such as long log reads may be large; the daemon bounds what it sends. */
const MAX_INCOMING_BYTES = 256 * 1024 * 1024;

interface Pending {
  readonly method: MethodName;
  readonly resolve: (value: unknown) => void;
  readonly reject: (error: EtlError) => void;
  readonly cleanup: () => void;
}

type AnyListener = (data: unknown) => void;

/** Where the client connects, as a human reads it in messages. */
function describeTarget(options: Pick<ClientOptions, 'socketPath' | 'url'>): string {
  return options.url ?? options.socketPath ?? '(no socket)';
}

/**
 * Connects to etld and completes the hello exchange (and the subscription of `options.subscribe`).
 * Rejects with DAEMON_UNREACHABLE, UNAUTHORIZED, PROTOCOL_VERSION or TOO_MANY_CLIENTS.
 */
export async function connectClient(options: ClientOptions): Promise<DaemonClient> {
  if ((options.socketPath === undefined) === (options.url === undefined)) {
    throw new EtlError('USAGE', 'give exactly one of socketPath or url to reach etld');
  }
  if (options.url !== undefined && !/^wss?:\/\//.test(options.url)) {
    throw new EtlError('USAGE', `expected a ws:// or wss:// URL, got "${options.url}"`);
  }
  const client = new WsDaemonClient(options);
  await client.connectFirst();
  return client;
}

class WsDaemonClient implements DaemonClient {
  readonly #options: ClientOptions;
  readonly #target: string;
  readonly #pending = new Map<number, Pending>();
  readonly #eventListeners = new Map<EventName, Set<AnyListener>>();
  readonly #stateListeners = new Set<(state: ConnectionState, detail: string | null) => void>();
  #state: ConnectionState = 'connecting';
  #role: AccessRole = 'operator';
  #ws: WebSocket | null = null;
  #nextId = 1;
  #reconnectTimer: NodeJS.Timeout | null = null;

  constructor(options: ClientOptions) {
    this.#options = options;
    this.#target = describeTarget(options);
  }

  get state(): ConnectionState {
    return this.#state;
  }

  get role(): AccessRole {
    return this.#role;
  }

  async connectFirst(): Promise<void> {
    const policy = this.#options.reconnect;
    const attempts = policy ? policy.attempts : 0;
    for (let attempt = 0; ; attempt++) {
      try {
        await this.#open();
        return;
      } catch (error) {
        const etl = error as EtlError;
        if (!policy || attempt >= attempts || !etl.retryable) {
          this.#setState('closed', etl.message);
          throw etl;
        }
        await sleep(backoff(policy, attempt));
      }
    }
  }

  call<M extends MethodName>(
    method: M,
    params?: MethodParamsInput<M>,
    options: CallOptions = {},
  ): Promise<MethodResult<M>> {
    const ws = this.#ws;
    if (this.#state !== 'connected' || ws === null) {
      return Promise.reject(unreachable(`not connected to etld at ${this.#target} (${this.#state})`));
    }
    const id = this.#nextId++;
    return new Promise<MethodResult<M>>((resolve, reject) => {
      const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
      const timer =
        timeoutMs > 0
          ? setTimeout(() => {
              this.#pending.delete(id);
              reject(
                new EtlError(
                  'DAEMON_UNREACHABLE',
                  `etld at ${this.#target} did not answer "${method}" within ${timeoutMs} ms`,
                ),
              );
            }, timeoutMs)
          : null;
      const onAbort = (): void => {
        this.#pending.get(id)?.cleanup();
        this.#pending.delete(id);
        reject(cancelledError(`"${method}"`));
      };
      options.signal?.addEventListener('abort', onAbort, { once: true });
      this.#pending.set(id, {
        method,
        resolve: (value) => resolve(value as MethodResult<M>),
        reject,
        cleanup: () => {
          if (timer) clearTimeout(timer);
          options.signal?.removeEventListener('abort', onAbort);
        },
      });
      ws.send(JSON.stringify({ type: 'request', id, method, params: params ?? {} }));
    });
  }

  onEvent<E extends EventName>(event: E, listener: (data: EventData<E>) => void): () => void {
    let set = this.#eventListeners.get(event);
    if (!set) {
      set = new Set();
      this.#eventListeners.set(event, set);
    }
    set.add(listener as AnyListener);
    return () => set.delete(listener as AnyListener);
  }

  onState(listener: (state: ConnectionState, detail: string | null) => void): () => void {
    this.#stateListeners.add(listener);
    return () => this.#stateListeners.delete(listener);
  }

  async close(): Promise<void> {
    if (this.#reconnectTimer) clearTimeout(this.#reconnectTimer);
    const ws = this.#ws;
    this.#ws = null;
    this.#setState('closed', null);
    this.#rejectAll(unreachable(`connection to etld at ${this.#target} was closed by the client`));
    if (ws && ws.readyState !== WebSocket.CLOSED) {
      const done = new Promise<void>((resolve) => ws.once('close', () => resolve()));
      ws.close(1000, 'client closing');
      const timer = setTimeout(() => ws.terminate(), 2_000);
      await done;
      clearTimeout(timer);
    }
  }

  /** One connection attempt: open, hello, subscribe. Resolves when usable. */
  #open(): Promise<void> {
    this.#setState('connecting', null);
    const { socketPath, url, token } = this.#options;
    const address = url ?? `ws+unix://${socketPath ?? ''}:/`;
    const headers: Record<string, string> = token !== undefined ? { authorization: `Bearer ${token}` } : {};
    const ws = new WebSocket(address, {
      headers,
      maxPayload: MAX_INCOMING_BYTES,
      handshakeTimeout: HELLO_TIMEOUT_MS,
    });
    return new Promise<void>((resolve, reject) => {
      let settled = false;
      let refusal: EtlError | null = null;
      const fail = (error: EtlError): void => {
        if (settled) return;
        settled = true;
        clearTimeout(helloTimer);
        ws.removeAllListeners();
        ws.on('error', () => undefined);
        ws.terminate();
        reject(error);
      };
      const helloTimer = setTimeout(
        () => fail(unreachable(`etld at ${this.#target} did not answer hello within ${HELLO_TIMEOUT_MS} ms`)),
        HELLO_TIMEOUT_MS,
      );
      ws.on('unexpected-response', (_req, res) => {
        const status = res.statusCode ?? 0;
        fail(
          status === 401
            ? new EtlError(
                'UNAUTHORIZED',
                `etld at ${this.#target} refused the token (HTTP 401): check --token-file`,
              )
            : unreachable(`etld at ${this.#target} answered HTTP ${status} instead of a WebSocket upgrade`),
        );
      });
      ws.on('error', (error: NodeJS.ErrnoException) =>
        fail(unreachable(describeSocketError(this.#target, error))),
      );
      ws.on('open', () =>
        ws.send(
          JSON.stringify({
            type: 'hello',
            version: PROTOCOL_VERSION,
            client: this.#options.clientName,
            ...(this.#options.user === undefined ? {} : { user: this.#options.user }),
          }),
        ),
      );
      ws.on('close', (code, reason) => {
        fail(
          refusal ??
            unreachable(
              `etld at ${this.#target} closed the connection during hello (${code}${reason.length ? ` ${reason.toString()}` : ''})`,
            ),
        );
      });
      ws.on('message', (data, isBinary) => {
        const frame = parseServerFrame(data, isBinary);
        if (frame === null)
          return fail(new EtlError('PROTOCOL_INVALID', `etld at ${this.#target} sent an invalid hello`));
        if (frame.type === 'reply' && frame.error) {
          // The daemon explains a refusal (version, too many clients) just before closing.
          refusal = new EtlError(frame.error.code, frame.error.message, { retryable: frame.error.retryable });
          return;
        }
        if (frame.type !== 'hello') return;
        if (frame.version !== PROTOCOL_VERSION) {
          return fail(
            new EtlError(
              'PROTOCOL_VERSION',
              `etld at ${this.#target} speaks protocol ${frame.version}, this client speaks ${PROTOCOL_VERSION}`,
            ),
          );
        }
        settled = true;
        clearTimeout(helloTimer);
        ws.removeAllListeners();
        // Daemons before the read-only role do not say: their every connection is an operator's.
        this.#role = frame.role ?? 'operator';
        this.#attach(ws);
        void this.#afterConnect().then(resolve, (error: unknown) => {
          reject(error instanceof EtlError ? error : unreachable(String(error)));
        });
      });
    });
  }

  async #afterConnect(): Promise<void> {
    this.#setState('connected', null);
    if (this.#options.subscribe) await this.call('subscribe', this.#options.subscribe);
  }

  #attach(ws: WebSocket): void {
    this.#ws = ws;
    ws.on('message', (data, isBinary) => this.#onFrame(data, isBinary));
    ws.on('error', () => undefined);
    ws.on('close', (code, reason) => {
      if (this.#ws !== ws) return;
      this.#ws = null;
      const detail = `connection to etld at ${this.#target} lost (${code}${reason.length ? ` ${reason.toString()}` : ''})`;
      this.#rejectAll(unreachable(detail));
      this.#scheduleReconnect(detail, 0);
    });
  }

  #scheduleReconnect(detail: string, attempt: number): void {
    if (this.#state === 'closed') return;
    const policy = this.#options.reconnect;
    if (!policy || attempt >= policy.attempts) {
      this.#setState('disconnected', detail);
      return;
    }
    this.#setState('connecting', detail);
    this.#reconnectTimer = setTimeout(
      () => {
        this.#reconnectTimer = null;
        if (this.#state === 'closed') return;
        this.#open().catch((error: unknown) => {
          const etl = error instanceof EtlError ? error : unreachable(String(error));
          if (etl.retryable) this.#scheduleReconnect(etl.message, attempt + 1);
          else this.#setState('disconnected', etl.message);
        });
      },
      backoff(policy, attempt),
    );
  }

  #onFrame(data: RawData, isBinary: boolean): void {
    const frame = parseServerFrame(data, isBinary);
    if (frame === null) return;
    if (frame.type === 'event') {
      if (!isEventName(frame.event)) return;
      const parsed = EVENTS[frame.event].safeParse(frame.data);
      const listeners = this.#eventListeners.get(frame.event);
      if (!parsed.success || !listeners) return;
      for (const listener of listeners) listener(parsed.data);
      return;
    }
    if (frame.type !== 'reply' || typeof frame.id !== 'number') return;
    const pending = this.#pending.get(frame.id);
    if (!pending) return;
    this.#pending.delete(frame.id);
    pending.cleanup();
    if (frame.error) {
      pending.reject(
        new EtlError(frame.error.code, frame.error.message, { retryable: frame.error.retryable }),
      );
      return;
    }
    const result = METHODS[pending.method].result.safeParse(frame.result);
    if (!result.success) {
      const issue = result.error.issues[0];
      pending.reject(
        new EtlError(
          'PROTOCOL_INVALID',
          `etld sent an invalid "${pending.method}" result (${issue ? `${issue.path.map(String).join('.')}: ${issue.message}` : '?'})`,
        ),
      );
      return;
    }
    pending.resolve(result.data);
  }

  #rejectAll(error: EtlError): void {
    for (const pending of this.#pending.values()) {
      pending.cleanup();
      pending.reject(error);
    }
    this.#pending.clear();
  }

  #setState(state: ConnectionState, detail: string | null): void {
    if (this.#state === state && detail === null) return;
    this.#state = state;
    for (const listener of this.#stateListeners) listener(state, detail);
  }
}

function parseServerFrame(
  data: RawData,
  isBinary: boolean,
): ReturnType<typeof serverFrameSchema.parse> | null {
  if (isBinary) return null;
  const text = Buffer.isBuffer(data)
    ? data.toString('utf8')
    : Array.isArray(data)
      ? Buffer.concat(data).toString('utf8')
      : Buffer.from(data).toString('utf8');
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return null;
  }
  const parsed = serverFrameSchema.safeParse(value);
  return parsed.success ? parsed.data : null;
}

function describeSocketError(target: string, error: NodeJS.ErrnoException): string {
  const reasons: Partial<Record<string, string>> = {
    ENOENT: 'no socket there',
    ECONNREFUSED: 'connection refused, nothing is listening',
    EACCES: 'permission denied (is your user in the etl group?)',
    ENOTSOCK: 'not a socket',
    ETIMEDOUT: 'timed out',
    EHOSTUNREACH: 'host unreachable',
  };
  const reason = (error.code !== undefined ? reasons[error.code] : undefined) ?? error.message;
  return `cannot reach etld at ${target}: ${reason}`;
}

function unreachable(message: string, code: ErrorCode = 'DAEMON_UNREACHABLE'): EtlError {
  return new EtlError(code, message);
}

function backoff(
  policy: { readonly initialDelayMs: number; readonly maxDelayMs: number },
  attempt: number,
): number {
  return Math.min(policy.maxDelayMs, policy.initialDelayMs * 2 ** attempt);
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
