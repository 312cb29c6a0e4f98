/**
 * Control from any host (docs/fleet.md): `etlctl stop P` sent to a host that does not run P is
 * forwarded to the host holding P's run lease over PostgreSQL LISTEN/NOTIFY on the shared state
 * store, and that host stops the run through its supervisor as a local stop would.
 *
 * This is the one asynchronous PostgreSQL client of the daemon (the store's is synchronous):
 * notifications arrive whenever another host sends them, so a connection must sit in LISTEN with
 * the event loop free. It is opened only in fleet mode. When it is lost the host reconnects with
 * backoff and LISTENs again, logging once when the outage starts and once when it ends; while it is
 * down a stop forwarded to this host is not received, which its sender learns from the missing
 * acknowledgement.
 */
import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { EtlError, toEtlError } from '../../shared/errors.js';
import type { Logger } from '../logging/logger.js';
import {
  CONTROL_CHANNEL,
  controlMessageFor,
  isStopRequest,
  type ControlMessage,
  type StopAck,
  type StopRequest,
} from './fleet-control-message.js';

/** What a stop did, on whichever host it was carried out. */
export interface StopOutcome {
  readonly run_id: string | null;
  readonly stopped: boolean;
}

/** How the daemon API forwards a stop (absent with a host alone). */
export interface StopForwarder {
  /** Asks `host` to stop its run of `pipeline`; resolves with what its supervisor did. */
  forwardStop(host: string, pipeline: string, requestedBy: string): Promise<StopOutcome>;
}

export interface FleetControlOptions {
  readonly url: string;
  readonly host: string;
  readonly logger: Logger;
  /** Carries out a stop asked for by another host (the supervisor's stop, as a local one). */
  readonly stop: (pipeline: string, requestedBy: string) => StopOutcome;
  /** How long a sender waits for the target's acknowledgement. */
  readonly ackTimeoutMs?: number;
  /** First and longest wait between reconnection attempts. */
  readonly reconnectMs?: { readonly first: number; readonly max: number };
}

interface Pending {
  readonly resolve: (outcome: StopOutcome) => void;
  readonly reject: (error: EtlError) => void;
  readonly timer: NodeJS.Timeout;
}

const DEFAULT_ACK_TIMEOUT_MS = 5_000;
const DEFAULT_RECONNECT = { first: 500, max: 30_000 };

export class FleetControl implements StopForwarder {
  readonly #o: FleetControlOptions;
  readonly #pending = new Map<string, Pending>();
  #client: pg.Client | null = null;
  #retry: NodeJS.Timeout | null = null;
  #failures = 0;
  #lostSince: Date | null = null;
  #closed = false;

  constructor(options: FleetControlOptions) {
    this.#o = options;
  }

  /** Connects and LISTENs; a failure is logged and retried in the background, never thrown. */
  async start(): Promise<void> {
    await this.#connect();
  }

  async forwardStop(host: string, pipeline: string, requestedBy: string): Promise<StopOutcome> {
    const request: StopRequest = {
      to: host,
      from: this.#o.host,
      action: 'stop',
      pipeline,
      requestedBy,
      requestId: randomUUID(),
    };
    const timeoutMs = this.#o.ackTimeoutMs ?? DEFAULT_ACK_TIMEOUT_MS;
    const acknowledged = new Promise<StopOutcome>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#pending.delete(request.requestId);
        reject(
          new EtlError(
            'DAEMON_UNREACHABLE',
            `the stop of ${pipeline} was sent to host ${host}, which runs it, but it did not answer within ${timeoutMs} ms (it may have lost its connection to the state store); try again, or stop it on host ${host}`,
          ),
        );
      }, timeoutMs);
      this.#pending.set(request.requestId, { resolve, reject, timer });
    });
    try {
      await this.#notify(request);
    } catch (error) {
      this.#settle(request.requestId)?.reject(toEtlError(error));
    }
    return acknowledged;
  }

  async close(): Promise<void> {
    this.#closed = true;
    if (this.#retry !== null) clearTimeout(this.#retry);
    this.#retry = null;
    for (const id of [...this.#pending.keys()])
      this.#settle(id)?.reject(
        new EtlError(
          'DAEMON_UNREACHABLE',
          'this daemon is shutting down; the forwarded stop was not answered',
        ),
      );
    const client = this.#client;
    this.#client = null;
    if (client !== null) await client.end();
  }

  /** Sends one message on the channel (delivered to every listening host, at commit). */
  async #notify(message: ControlMessage): Promise<void> {
    const client = this.#client;
    if (client === null)
      throw new EtlError(
        'STATE_STORE',
        'this host has no connection to the state store for fleet control right now; try again in a moment',
      );
    await client.query('SELECT pg_notify($1, $2)', [CONTROL_CHANNEL, JSON.stringify(message)]);
  }

  #settle(requestId: string): Pending | undefined {
    const pending = this.#pending.get(requestId);
    if (pending === undefined) return undefined;
    this.#pending.delete(requestId);
    clearTimeout(pending.timer);
    return pending;
  }

  #receive(payload: string | undefined): void {
    const message = controlMessageFor(payload, this.#o.host);
    if (message === null) return;
    if (isStopRequest(message)) {
      this.#carryOut(message);
      return;
    }
    const pending = this.#settle(message.ack);
    if (pending === undefined) return;
    const { outcome } = message;
    if ('error' in outcome) pending.reject(new EtlError(outcome.error.code, outcome.error.message));
    else pending.resolve(outcome);
  }

  #carryOut(request: StopRequest): void {
    const { logger } = this.#o;
    let outcome: StopAck['outcome'];
    try {
      outcome = this.#o.stop(request.pipeline, `${request.requestedBy}, forwarded by host ${request.from}`);
    } catch (error) {
      const failure = toEtlError(error);
      outcome = { error: { code: failure.code, message: failure.message } };
    }
    this.#notify({ to: request.from, ack: request.requestId, outcome }).catch((error: unknown) => {
      logger.warning(
        `could not acknowledge the stop of ${request.pipeline} forwarded by host ${request.from}: ${toEtlError(error).message}`,
        { pipeline: request.pipeline },
      );
    });
  }

  async #connect(): Promise<void> {
    this.#retry = null;
    if (this.#closed) return;
    const client = new pg.Client({
      connectionString: this.#o.url,
      application_name: `etld control ${this.#o.host}`,
      connectionTimeoutMillis: 10_000,
      // Dead connections (a partition, a vanished server) are noticed without waiting for TCP.
      keepAlive: true,
    });
    client.on('notification', (notification) => this.#receive(notification.payload));
    client.on('error', (error) => this.#lost(client, error));
    client.on('end', () => this.#lost(client, new Error('the connection was closed')));
    try {
      await client.connect();
      await client.query(`LISTEN ${CONTROL_CHANNEL}`);
    } catch (error) {
      this.#lost(client, error);
      return;
    }
    if (this.#closed) {
      await client.end();
      return;
    }
    this.#client = client;
    this.#failures = 0;
    if (this.#lostSince !== null) {
      this.#o.logger.notice(
        `fleet control: listening again for requests from other hosts (the connection was lost since ${this.#lostSince.toISOString()})`,
      );
      this.#lostSince = null;
    }
  }

  /** The connection failed or ended: drop it and try again after a growing pause. */
  #lost(client: pg.Client, error: unknown): void {
    if (this.#client === client) this.#client = null;
    // `end` follows `error` on the same client: one loss, one reconnection.
    client.removeAllListeners();
    client.on('error', () => undefined);
    // Closing: `close()` is ending this very client.
    if (this.#closed) return;
    client.end().catch(() => undefined);
    if (this.#retry !== null) return;
    if (this.#lostSince === null) {
      this.#lostSince = new Date();
      this.#o.logger.error(
        `fleet control: no connection to the state store (${toEtlError(error).message}); stops forwarded to this host are not received until it is back`,
      );
    }
    const { first, max } = this.#o.reconnectMs ?? DEFAULT_RECONNECT;
    const delay = Math.min(max, first * 2 ** this.#failures);
    this.#failures += 1;
    this.#retry = setTimeout(() => {
      this.#connect().catch((failure: unknown) => this.#lost(client, failure));
    }, delay);
    this.#retry.unref();
  }
}
