/**
 * The optional HTTP endpoint (`http: { listen: 127.0.0.1:9464 }` in etld.yaml):
 *   GET /healthz  200 while the process and its event loop answer
 *   GET /readyz   200 once the daemon serves (control socket listening, state reconciled) and the
 *                 state store answers; 503 with the reason otherwise (starting, draining, store)
 *   GET /metrics  Prometheus text format; with a token configured, only with
 *                 `Authorization: Bearer <token>`
 *
 * Decisions: the health endpoints stay open even with a token (probes rarely carry one, and they
 * reveal only "ok"/"not ready: draining"); the token is compared in constant time; requests are
 * bounded (10 s, 64 connections) so a slow scraper cannot hold the daemon's sockets.
 */
import { timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { EtlError } from '../../shared/errors.js';
import type { Logger } from '../logging/logger.js';

export type Readiness = { readonly ready: true } | { readonly ready: false; readonly reason: string };

export interface HttpEndpointOptions {
  readonly host: string;
  readonly port: number;
  /** Bearer token for /metrics; null: open. */
  readonly token: string | null;
  readonly metrics: { render(): Promise<string>; readonly contentType: string };
  readonly readiness: () => Readiness;
  readonly logger: Logger;
}

function tokenMatches(header: string | undefined, token: string): boolean {
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header ?? '');
  if (!match?.[1]) return false;
  const given = Buffer.from(match[1]);
  const wanted = Buffer.from(token);
  return given.length === wanted.length && timingSafeEqual(given, wanted);
}

export class HttpEndpoint {
  readonly #o: HttpEndpointOptions;
  readonly #server: Server;

  constructor(options: HttpEndpointOptions) {
    this.#o = options;
    this.#server = createServer((request, response) => this.#handle(request, response));
    this.#server.requestTimeout = 10_000;
    this.#server.headersTimeout = 10_000;
    this.#server.keepAliveTimeout = 5_000;
    this.#server.maxConnections = 64;
  }

  /** Where it listens (the port is known once started, also for port 0). */
  get address(): { host: string; port: number } {
    const address = this.#server.address() as AddressInfo | null;
    return { host: this.#o.host, port: address?.port ?? this.#o.port };
  }

  start(): Promise<void> {
    const where = `${this.#o.host}:${this.#o.port}`;
    return new Promise((resolve, reject) => {
      const onError = (error: NodeJS.ErrnoException): void => {
        reject(
          new EtlError(
            error.code === 'EADDRINUSE' ? 'LOCKED' : 'CONFIG_INVALID',
            `the HTTP endpoint (http.listen) cannot listen on ${where}: ${error.message}`,
            { cause: error, retryable: false },
          ),
        );
      };
      this.#server.once('error', onError);
      this.#server.listen(this.#o.port, this.#o.host, () => {
        this.#server.off('error', onError);
        this.#server.on('error', (error) => this.#o.logger.warning(`HTTP endpoint: ${error.message}`));
        this.#o.logger.info(`HTTP endpoint on http://${where} (/healthz, /readyz, /metrics)`);
        resolve();
      });
    });
  }

  close(): Promise<void> {
    return new Promise((resolve) => {
      if (!this.#server.listening) return resolve();
      this.#server.close(() => resolve());
      this.#server.closeAllConnections();
    });
  }

  #handle(request: IncomingMessage, response: ServerResponse): void {
    const path = (request.url ?? '/').split('?')[0];
    const send = (status: number, body: string, headers: Record<string, string> = {}): void => {
      response.writeHead(status, {
        'Content-Type': 'text/plain; charset=utf-8',
        'Cache-Control': 'no-store',
        ...headers,
      });
      response.end(request.method === 'HEAD' ? undefined : body);
    };
    if (request.method !== 'GET' && request.method !== 'HEAD') {
      send(405, 'method not allowed\n', { Allow: 'GET, HEAD' });
      return;
    }
    switch (path) {
      case '/healthz':
        send(200, 'ok\n');
        return;
      case '/readyz': {
        const readiness = this.#o.readiness();
        if (readiness.ready) send(200, 'ready\n');
        else send(503, `not ready: ${readiness.reason}\n`);
        return;
      }
      case '/metrics':
        if (this.#o.token !== null && !tokenMatches(request.headers.authorization, this.#o.token)) {
          send(401, 'unauthorized: Authorization: Bearer <token> required\n', {
            'WWW-Authenticate': 'Bearer realm="etld"',
          });
          return;
        }
        this.#o.metrics.render().then(
          (text) => send(200, text, { 'Content-Type': this.#o.metrics.contentType }),
          (error: unknown) => {
            const message = error instanceof Error ? error.message : String(error);
            this.#o.logger.warning(`/metrics failed: ${message}`);
            send(500, 'metrics unavailable\n');
          },
        );
        return;
      default:
        send(404, 'not found: /healthz, /readyz, /metrics\n');
    }
  }
}
