import { createHash, timingSafeEqual } from 'node:crypto';
import { chmod, chown, unlink } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';
import type { DaemonApi } from './api.js';
import type { Logger } from '../logging/logger.js';
import { EtlError } from '../../shared/errors.js';
import { EVENTS, type EventData, type EventName } from '../../shared/protocol.js';
import { OPERATOR_ACCESS, type SessionAccess } from './access.js';
import { ClientSession } from './client-session.js';
import { createHandlers, type HandlerTable } from './handlers.js';
import { LogLimiter } from './log-limiter.js';
import { claimSocketPath } from './socket-file.js';

export interface ControlServerOptions {
  readonly api: DaemonApi;
  readonly socketPath: string;
  /** e.g. 0o660 */
  readonly socketMode: number;
  /**
   * Optional second Unix socket whose clients hold the read-only role: its mode and group decide
   * who may watch without being able to change anything. `gid` (optional) is set on the file.
   */
  readonly readOnlySocket?: { readonly path: string; readonly mode: number; readonly gid?: number };
  /**
   * Optional TCP listener; every connection must send `Authorization: Bearer <token>`: the operator
   * token (`token`) or the read-only token (`readOnlyToken`). At least one is needed. Port 0 picks one.
   */
  readonly tcp?: {
    readonly host: string;
    readonly port: number;
    readonly token: string | null;
    readonly readOnlyToken?: string | null;
  };
  readonly maxClients: number;
  readonly maxFrameBytes: number;
  readonly maxSendBufferBytes: number;
  readonly heartbeatMs: number;
  readonly logger: Logger;
  readonly daemonInfo: { readonly version: string; readonly host: string; readonly pid: number };
  /** Check every result against the protocol schema before sending it (default true). */
  readonly validateResults?: boolean;
  /** Close connections that have not sent hello by then (default 10 s). */
  readonly helloTimeoutMs?: number;
}

type ServerState = 'new' | 'starting' | 'listening' | 'closed';

/**
 * The daemon's WebSocket control socket: always on a Unix socket, optionally on TCP with a bearer
 * token. Forwards the daemon's events to subscribed clients; one bad or slow client never affects
 * the others or the daemon.
 */
export class ControlServer {
  readonly #options: ControlServerOptions;
  readonly #handlers: HandlerTable;
  readonly #wss: WebSocketServer;
  readonly #sessions = new Set<ClientSession>();
  readonly #connectionLog = new LogLimiter(10, 60_000);
  readonly #unsubscribe: (() => void)[] = [];
  #state: ServerState = 'new';
  #unix: Server | null = null;
  #unixReadOnly: Server | null = null;
  #tcp: Server | null = null;
  #heartbeat: NodeJS.Timeout | null = null;
  #nextClient = 1;

  constructor(options: ControlServerOptions) {
    checkListeners(options);
    this.#options = options;
    this.#handlers = createHandlers(options.api);
    this.#wss = new WebSocketServer({
      noServer: true,
      maxPayload: options.maxFrameBytes,
      clientTracking: false,
    });
  }

  get clientCount(): number {
    return this.#sessions.size;
  }

  /** The bound TCP address (useful with port 0), or null when TCP is off. */
  get tcpAddress(): { host: string; port: number } | null {
    const address = this.#tcp?.address();
    return address && typeof address === 'object' ? { host: address.address, port: address.port } : null;
  }

  async start(): Promise<void> {
    if (this.#state !== 'new')
      throw new EtlError('ILLEGAL_STATE', `control server cannot start: it is ${this.#state}`);
    this.#state = 'starting';
    const { socketPath, socketMode, readOnlySocket, tcp, logger } = this.#options;
    try {
      await claimSocketPath(socketPath);
      this.#unix = this.#createHttpServer('unix');
      await listen(this.#unix, socketPath, () => this.#unix?.listen(socketPath));
      await chmod(socketPath, socketMode);
      if (readOnlySocket) {
        const { path, mode, gid } = readOnlySocket;
        await claimSocketPath(path);
        this.#unixReadOnly = this.#createHttpServer('unix-ro');
        await listen(this.#unixReadOnly, path, () => this.#unixReadOnly?.listen(path));
        await chmod(path, mode);
        if (gid !== undefined) await setGroup(path, gid);
      }
      if (tcp) {
        this.#tcp = this.#createHttpServer('tcp');
        const where = `${tcp.host}:${tcp.port}`;
        await listen(this.#tcp, where, () => this.#tcp?.listen(tcp.port, tcp.host));
      }
    } catch (error) {
      await this.#closeListeners();
      this.#state = 'closed';
      throw error;
    }
    for (const event of Object.keys(EVENTS) as EventName[]) {
      this.#unsubscribe.push(this.#options.api.events.on(event, (data) => this.#broadcast(event, data)));
    }
    this.#heartbeat = setInterval(() => {
      for (const session of this.#sessions) session.heartbeat();
    }, this.#options.heartbeatMs);
    this.#heartbeat.unref();
    this.#state = 'listening';
    const readOnlyText = readOnlySocket ? `, read-only on ${readOnlySocket.path}` : '';
    const tcpText = this.tcpAddress
      ? ` and ${this.tcpAddress.host}:${this.tcpAddress.port} (${tcpTokens(tcp)})`
      : '';
    logger.info(`control socket listening on ${socketPath}${readOnlyText}${tcpText}`);
  }

  /** Closes every client with a reason, stops listening and removes the socket file. */
  async close(): Promise<void> {
    if (this.#state === 'closed') return;
    this.#state = 'closed';
    if (this.#heartbeat) clearInterval(this.#heartbeat);
    for (const off of this.#unsubscribe.splice(0)) off();
    const closed = [...this.#sessions].map((session) => session.closed);
    for (const session of this.#sessions) session.close(1001, 'etld is shutting down');
    await Promise.all(closed);
    await this.#closeListeners();
  }

  #createHttpServer(transport: Transport): Server {
    const server = createServer((_req, res) => {
      res.writeHead(426, { 'content-type': 'text/plain', connection: 'close', upgrade: 'websocket' });
      res.end('etld control socket: connect with a WebSocket client such as etlctl\n');
    });
    server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) =>
      this.#onUpgrade(transport, req, socket, head),
    );
    server.on('clientError', (_error, socket) => socket.destroy());
    return server;
  }

  #onUpgrade(transport: Transport, req: IncomingMessage, socket: Duplex, head: Buffer): void {
    socket.on('error', () => socket.destroy());
    const peer =
      transport === 'tcp' ? `${req.socket.remoteAddress ?? '?'}:${req.socket.remotePort ?? '?'}` : transport;
    if (this.#state !== 'listening') {
      socket.end('HTTP/1.1 503 Service Unavailable\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
      return;
    }
    const access = this.#accessOf(transport, req.headers.authorization);
    if (access === null) {
      const why = req.headers.authorization === undefined ? 'no bearer token' : 'wrong bearer token';
      this.#logConnection(`control connection from ${peer} refused: ${why}`);
      socket.end(
        'HTTP/1.1 401 Unauthorized\r\nWWW-Authenticate: Bearer\r\nConnection: close\r\nContent-Length: 0\r\n\r\n',
      );
      return;
    }
    const role = access.role === 'read-only' ? ' (read-only)' : '';
    this.#wss.handleUpgrade(req, socket, head, (ws) =>
      this.#onConnection(ws, `${peer}#${this.#nextClient++}${role}`, access),
    );
  }

  /** The role a new connection gets, or null when TCP refuses it (no or a wrong token). */
  #accessOf(transport: Transport, authorization: string | undefined): SessionAccess | null {
    switch (transport) {
      case 'unix':
        return OPERATOR_ACCESS;
      case 'unix-ro':
        return { role: 'read-only', via: `the read-only socket ${this.#options.readOnlySocket?.path ?? ''}` };
      case 'tcp': {
        const tcp = this.#options.tcp;
        // Both compared, always: which one matched must not show in the time taken.
        const operator = bearerMatches(authorization, tcp?.token ?? '');
        const readOnly = bearerMatches(authorization, tcp?.readOnlyToken ?? '');
        if (operator) return { role: 'operator', via: 'the operator token' };
        if (readOnly) return { role: 'read-only', via: 'it presented the read-only token' };
        return null;
      }
    }
  }

  #onConnection(ws: WebSocket, label: string, access: SessionAccess): void {
    const session = new ClientSession({
      ws,
      label,
      access,
      handlers: this.#handlers,
      logger: this.#options.logger,
      daemon: this.#options.daemonInfo,
      maxSendBufferBytes: this.#options.maxSendBufferBytes,
      validateResults: this.#options.validateResults ?? true,
      helloTimeoutMs: this.#options.helloTimeoutMs ?? 10_000,
      onClose: (closed) => this.#sessions.delete(closed),
    });
    if (this.#sessions.size >= this.#options.maxClients) {
      this.#logConnection(
        `control client ${label} refused: ${this.#options.maxClients} clients are already connected`,
      );
      session.refuse(
        new EtlError(
          'TOO_MANY_CLIENTS',
          `etld already serves ${this.#options.maxClients} clients (control.max_clients); try again later`,
          {
            retryable: true,
          },
        ),
        1013,
      );
      return;
    }
    this.#sessions.add(session);
  }

  #broadcast<E extends EventName>(event: E, data: EventData<E>): void {
    if (this.#sessions.size === 0) return;
    const encoded = new Map<unknown, string>();
    const encode = (value: EventData<E>): string => {
      let text = encoded.get(value);
      if (text === undefined) {
        text = JSON.stringify({ type: 'event', event, data: value });
        encoded.set(value, text);
      }
      return text;
    };
    for (const session of this.#sessions) {
      try {
        session.deliver(event, data, encode);
      } catch (error) {
        // An event listener must not throw into the daemon's emitter.
        this.#options.logger.error(
          `control client ${session.label}: event ${event} not delivered: ${String(error)}`,
        );
      }
    }
  }

  #logConnection(message: string): void {
    const dropped = this.#connectionLog.take();
    if (dropped === undefined) return;
    this.#options.logger.warning(dropped > 0 ? `${message} (${dropped} similar lines not logged)` : message);
  }

  async #closeListeners(): Promise<void> {
    const servers = [this.#unix, this.#unixReadOnly, this.#tcp].filter(
      (s): s is Server => s !== null && s.listening,
    );
    await Promise.all(
      servers.map(
        (server) =>
          new Promise<void>((resolve) => {
            server.close(() => resolve());
            server.closeAllConnections();
          }),
      ),
    );
    const created = [
      this.#unix ? this.#options.socketPath : null,
      this.#unixReadOnly ? (this.#options.readOnlySocket?.path ?? null) : null,
    ];
    for (const path of created) {
      if (path === null) continue;
      await unlink(path).catch((error: NodeJS.ErrnoException) => {
        if (error.code !== 'ENOENT')
          this.#options.logger.warning(`could not remove ${path}: ${error.message}`);
      });
    }
    this.#unix = null;
    this.#unixReadOnly = null;
    this.#tcp = null;
  }
}

/** Where a connection came in: the operator socket, the read-only socket or TCP (role by token). */
type Transport = 'unix' | 'unix-ro' | 'tcp';

/** Refuses settings that would open a door nobody can use or two doors with one key. */
function checkListeners(options: ControlServerOptions): void {
  const { tcp, readOnlySocket, socketPath } = options;
  if (tcp && (tcp.token ?? '') === '' && (tcp.readOnlyToken ?? '') === '') {
    throw new EtlError(
      'CONFIG_INVALID',
      'the TCP control listener needs a non-empty token (control.tcp.token_file, or a read-only token)',
    );
  }
  if (tcp && tcp.token !== null && tcp.token !== '' && tcp.token === tcp.readOnlyToken) {
    throw new EtlError(
      'CONFIG_INVALID',
      'control.tcp: the read-only token is the operator token; give read-only clients a token of their own',
    );
  }
  if (readOnlySocket && readOnlySocket.path === socketPath) {
    throw new EtlError(
      'CONFIG_INVALID',
      `control.readonly_socket.path is the operator socket ${socketPath}; choose another path (etld-ro.sock)`,
    );
  }
}

function tcpTokens(tcp: ControlServerOptions['tcp']): string {
  const kinds = [
    (tcp?.token ?? '') === '' ? null : 'operator token',
    (tcp?.readOnlyToken ?? '') === '' ? null : 'read-only token',
  ].filter((k) => k !== null);
  return `${kinds.join(' or ')} required`;
}

/** The read-only socket's group, so operators can grant watching by group membership. */
async function setGroup(path: string, gid: number): Promise<void> {
  try {
    await chown(path, -1, gid);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? 'error';
    throw new EtlError(
      'CONFIG_INVALID',
      `cannot give the read-only socket ${path} group ${gid} (${code}): the daemon's user must be a member of that group (systemd: SupplementaryGroups=)`,
      { cause: error },
    );
  }
}

/** Constant-time comparison: both sides are hashed first so their lengths are equal. */
export function bearerMatches(header: string | undefined, token: string): boolean {
  if (header === undefined || token.length === 0) return false;
  const match = /^Bearer[ \t]+(\S+)[ \t]*$/i.exec(header);
  const presented = match?.[1] ?? '';
  const a = createHash('sha256').update(presented).digest();
  const b = createHash('sha256').update(token).digest();
  return timingSafeEqual(a, b) && presented.length > 0;
}

function listen(server: Server, where: string, begin: () => void): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (error: NodeJS.ErrnoException): void => {
      server.off('listening', onListening);
      const code = error.code === 'EADDRINUSE' ? 'LOCKED' : 'CONFIG_INVALID';
      reject(
        new EtlError(code, `control socket cannot listen on ${where}: ${error.message}`, { cause: error }),
      );
    };
    const onListening = (): void => {
      server.off('error', onError);
      resolve();
    };
    server.once('error', onError);
    server.once('listening', onListening);
    begin();
  });
}
