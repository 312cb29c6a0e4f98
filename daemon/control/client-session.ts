import type { WebSocket, RawData } from 'ws';
import type { Logger } from '../logging/logger.js';
import { EtlError, toEtlError, type SerializedError } from '../../shared/errors.js';
import {
  isMethodName,
  PROTOCOL_VERSION,
  type EventData,
  type EventName,
  type LogLine,
} from '../../shared/protocol.js';
import { decodeClientFrame, truncate, type RequestId } from './frame-decoder.js';
import type { Caller } from './api.js';
import { dispatch, type HandlerContext, type HandlerTable, type LogFollow } from './handlers.js';
import { LogLimiter } from './log-limiter.js';
import type { SessionAccess } from './access.js';
import { eventForSubscription, logMatches, type LogFilter, type Subscription } from './subscriptions.js';

export interface SessionOptions {
  readonly ws: WebSocket;
  readonly label: string;
  readonly handlers: HandlerTable;
  /** The role the connection got from its socket or token. */
  readonly access: SessionAccess;
  readonly logger: Logger;
  readonly daemon: { readonly version: string; readonly host: string; readonly pid: number };
  readonly maxSendBufferBytes: number;
  readonly validateResults: boolean;
  /** A connection that has not sent hello by then is closed, so idle sockets cannot hold client slots. */
  readonly helloTimeoutMs: number;
  readonly onClose: (session: ClientSession) => void;
}

/** Requests one client may have running at once; beyond it the socket stops being read (TCP backpressure). */
const MAX_IN_FLIGHT = 32;
/** Log lines a following client may have held back while its past lines are read. */
const MAX_HELD_LOG_LINES = 10_000;
/** A client that does not complete the closing handshake is cut off after this. */
const CLOSE_GRACE_MS = 3_000;

interface Follow {
  readonly filter: LogFilter;
  live: boolean;
  held: LogLine[];
}

/** One connected client: hello, requests, subscriptions, log follows and a bounded send buffer. */
export class ClientSession {
  readonly label: string;
  readonly #options: SessionOptions;
  readonly #ws: WebSocket;
  readonly #badFrameLog = new LogLimiter(5, 60_000);
  readonly #refusalLog = new LogLimiter(5, 60_000);
  #greeted = false;
  #alive = true;
  #closing = false;
  #inFlight = 0;
  #badFrames = 0;
  #subscription: Subscription | null = null;
  /** Set by hello: the client and the user it reported. */
  #caller: Caller;
  readonly #follows = new Set<Follow>();
  /** Resolves once the connection is fully closed. */
  readonly closed: Promise<void>;

  constructor(options: SessionOptions) {
    this.#options = options;
    this.#ws = options.ws;
    this.label = options.label;
    this.#caller = { user: null, client: null, connection: options.label.replace(/#\d+$/, '') };
    this.closed = new Promise((resolve) => this.#ws.once('close', () => resolve()));
    const helloTimer = setTimeout(() => {
      if (this.#greeted) return;
      this.#logBadFrame(`no hello within ${options.helloTimeoutMs} ms; disconnected`);
      this.close(1008, `no hello within ${options.helloTimeoutMs} ms`);
    }, options.helloTimeoutMs);
    helloTimer.unref();
    this.#ws.once('close', () => clearTimeout(helloTimer));
    this.#ws.on('message', (data, isBinary) => this.#onMessage(data, isBinary));
    this.#ws.on('pong', () => {
      this.#alive = true;
    });
    this.#ws.on('error', (error) => {
      const code = (error as { code?: string }).code;
      if (code === 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH') {
        this.#logBadFrame('frame larger than the maximum frame size; connection closed with 1009');
      } else {
        this.#options.logger.debug(`control client ${this.label}: ${error.message}`, { client: this.label });
      }
    });
    this.#ws.on('close', (code, reason) => {
      this.#closing = true;
      this.#follows.clear();
      this.#subscription = null;
      if (this.#badFrameLog.suppressed > 0) {
        this.#options.logger.warning(
          `control client ${this.label}: ${this.#badFrameLog.suppressed} more bad frames were not logged (${this.#badFrames} in total)`,
          { client: this.label },
        );
      }
      this.#options.logger.debug(
        `control client ${this.label} disconnected (${code}${reason.length ? ` ${reason.toString()}` : ''})`,
        {
          client: this.label,
        },
      );
      this.#options.onClose(this);
    });
  }

  /** Heartbeat tick: false when the previous ping got no pong (the peer is dead and was cut off). */
  heartbeat(): boolean {
    if (!this.#alive) {
      this.#options.logger.warning(
        `control client ${this.label}: no answer to the heartbeat ping; disconnected`,
        {
          client: this.label,
        },
      );
      this.#ws.terminate();
      return false;
    }
    this.#alive = false;
    try {
      this.#ws.ping();
    } catch {
      // The socket is already closing; its close event will clean up.
    }
    return true;
  }

  /** Delivers an event if this client wants it; `encode` is shared so 200 clients cost one stringify. */
  deliver<E extends EventName>(event: E, data: EventData<E>, encode: (data: EventData<E>) => string): void {
    if (this.#closing) return;
    const wanted = this.#subscription ? eventForSubscription(this.#subscription, event, data) : undefined;
    if (wanted !== undefined) {
      this.#sendText(encode(wanted));
      return;
    }
    if (event !== 'log' || this.#follows.size === 0) return;
    const line = data as LogLine;
    let matched = false;
    for (const follow of this.#follows) {
      if (!logMatches(follow.filter, line)) continue;
      if (follow.live) matched = true;
      else if (follow.held.length < MAX_HELD_LOG_LINES) follow.held.push(line);
    }
    if (matched) this.#sendText(encode(data));
  }

  close(code: number, reason: string): void {
    if (this.#closing) return;
    this.#closing = true;
    this.#ws.close(code, reason);
    setTimeout(() => this.#ws.terminate(), CLOSE_GRACE_MS).unref();
  }

  terminate(): void {
    this.#closing = true;
    this.#ws.terminate();
  }

  /** Sends an error with no request id (e.g. TOO_MANY_CLIENTS) and closes with the same reason. */
  refuse(error: EtlError, closeCode: number): void {
    this.#sendFrame({ type: 'reply', id: null, error: error.toJSON() });
    this.close(closeCode, truncate(`${error.code}: ${error.message}`, 120));
  }

  #onMessage(data: RawData, isBinary: boolean): void {
    if (this.#closing) return;
    const buffer = Buffer.isBuffer(data)
      ? data
      : Array.isArray(data)
        ? Buffer.concat(data)
        : Buffer.from(data);
    const decoded = decodeClientFrame(buffer, isBinary);
    if (!decoded.ok) {
      this.#logBadFrame(decoded.error.message);
      this.#replyError(decoded.id, decoded.error.toJSON());
      return;
    }
    const frame = decoded.frame;
    if (frame.type === 'hello') {
      this.#onHello(frame.version, frame.client ?? null, frame.user ?? null);
      return;
    }
    if (!this.#greeted) {
      this.#logBadFrame(`request "${truncate(frame.method, 40)}" before hello`);
      this.#replyError(frame.id, {
        code: 'PROTOCOL_INVALID',
        message: `send {"type":"hello","version":${PROTOCOL_VERSION}} before any request`,
        retryable: false,
      });
      return;
    }
    if (!isMethodName(frame.method)) {
      this.#logBadFrame(`unknown method "${truncate(frame.method, 40)}"`);
      this.#replyError(frame.id, {
        code: 'UNKNOWN_METHOD',
        message: `unknown method "${truncate(frame.method, 100)}"`,
        retryable: false,
      });
      return;
    }
    void this.#runRequest(frame.id, frame.method, frame.params);
  }

  #onHello(version: number, client: string | null, user: string | null): void {
    if (this.#greeted) {
      this.#logBadFrame('second hello');
      this.#replyError(null, {
        code: 'PROTOCOL_INVALID',
        message: 'hello was already received',
        retryable: false,
      });
      return;
    }
    if (version !== PROTOCOL_VERSION) {
      const error = new EtlError(
        'PROTOCOL_VERSION',
        `client${client ? ` ${truncate(client, 60)}` : ''} speaks protocol ${version}, this etld ${this.#options.daemon.version} speaks ${PROTOCOL_VERSION}: use an etlctl/etl-console of the same release as the daemon`,
      );
      this.#logBadFrame(`protocol version ${version} refused`);
      this.refuse(error, 1002);
      return;
    }
    this.#greeted = true;
    this.#caller = {
      ...this.#caller,
      user: user === null ? null : truncate(user, 60),
      client: client === null ? null : truncate(client, 60),
    };
    this.#sendFrame({
      type: 'hello',
      version: PROTOCOL_VERSION,
      daemon: this.#options.daemon,
      role: this.#options.access.role,
    });
    this.#options.logger.debug(
      `control client ${this.label} connected${client ? ` (${truncate(client, 60)})` : ''}`,
      {
        client: this.label,
      },
    );
  }

  async #runRequest(
    id: string | number,
    method: Parameters<typeof dispatch>[1],
    params: unknown,
  ): Promise<void> {
    this.#inFlight++;
    if (this.#inFlight >= MAX_IN_FLIGHT) this.#ws.pause();
    const afterReply: (() => void)[] = [];
    const ctx: HandlerContext = {
      caller: this.#caller,
      subscribe: (subscription) => {
        this.#subscription = subscription;
      },
      unsubscribe: () => {
        this.#subscription = null;
        this.#follows.clear();
      },
      followLogs: (filter) => this.#followLogs(filter, afterReply),
    };
    try {
      const result = await dispatch(this.#options.handlers, method, params, ctx, {
        validateResults: this.#options.validateResults,
        access: this.#options.access,
      });
      this.#sendFrame({ type: 'reply', id, result });
    } catch (thrown) {
      const error = toEtlError(thrown);
      if (error.code === 'INTERNAL') {
        this.#options.logger.error(`control method "${method}" failed: ${error.message}`, {
          client: this.label,
        });
      } else if (error.code === 'PROTOCOL_INVALID') {
        this.#logBadFrame(error.message);
      } else if (error.code === 'READ_ONLY') {
        // Someone tried to change something through a read-only door: worth a line, not a flood.
        const dropped = this.#refusalLog.take();
        if (dropped !== undefined)
          this.#options.logger.notice(
            `control client ${this.label}: "${method}" refused${dropped > 0 ? ` (${dropped} similar lines not logged)` : ''}`,
            { client: this.label },
          );
      }
      this.#replyError(id, error.toJSON());
    } finally {
      for (const run of afterReply) run();
      this.#inFlight--;
      if (this.#inFlight === MAX_IN_FLIGHT - 1 && !this.#closing) this.#ws.resume();
    }
  }

  #followLogs(filter: LogFilter, afterReply: (() => void)[]): LogFollow {
    const follow: Follow = { filter, live: false, held: [] };
    this.#follows.add(follow);
    return {
      release: (alreadySent) => {
        afterReply.push(() => {
          if (!this.#follows.has(follow)) return;
          const seen = new Set(alreadySent.map((line) => `${line.ts}\u0000${line.message}`));
          for (const line of follow.held) {
            if (!seen.has(`${line.ts}\u0000${line.message}`))
              this.#sendFrame({ type: 'event', event: 'log', data: line });
          }
          follow.held = [];
          follow.live = true;
        });
      },
      cancel: () => {
        this.#follows.delete(follow);
      },
    };
  }

  #replyError(id: RequestId, error: SerializedError): void {
    this.#sendFrame({ type: 'reply', id, error });
  }

  #sendFrame(frame: object): void {
    this.#sendText(JSON.stringify(frame));
  }

  /** Never blocks the daemon: a client whose unread backlog would pass the bound is dropped. */
  #sendText(text: string): void {
    if (this.#closing || this.#ws.readyState !== this.#ws.OPEN) return;
    const size = Buffer.byteLength(text);
    if (this.#ws.bufferedAmount + size > this.#options.maxSendBufferBytes) {
      this.#options.logger.warning(
        `control client ${this.label}: dropped, it does not read fast enough (over ${this.#options.maxSendBufferBytes} bytes unsent)`,
        { client: this.label },
      );
      this.close(1008, `send buffer over ${this.#options.maxSendBufferBytes} bytes: client too slow`);
      return;
    }
    this.#ws.send(text);
  }

  #logBadFrame(what: string): void {
    this.#badFrames++;
    const dropped = this.#badFrameLog.take();
    if (dropped === undefined) return;
    this.#options.logger.warning(
      `control client ${this.label}: ${truncate(what, 200)}${dropped > 0 ? ` (${dropped} similar lines not logged)` : ''}`,
      { client: this.label },
    );
  }
}
