/**
 * The coordinator of a fleet sharing one PostgreSQL state store. It keeps its own connection
 * (the store's may be busy with a long transaction; a heartbeat must not wait behind it). Each
 * answer is one statement whose outcome the database decides: a fire claim is an insert that
 * only one host's row survives, a lease an upsert that takes the row only when it expired or is
 * already this host's. Expiry is measured by the server's `now()`, never this host's clock.
 *
 * A host that cannot heartbeat for a whole lease time must assume its leases were taken: its
 * running runs go on (their destination commit is exactly-once), but it starts no run until a
 * heartbeat succeeds again (`acquireRunLease` tries one first, and refuses while it fails).
 */
import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { EtlError } from '../../shared/errors.js';
import { openSyncPgClient, type SyncPgClient } from '../state/pg-sync-client.js';
import type { FleetCoordinator, FleetHost, LeaseAnswer } from './coordinator.js';
import { FleetSourceSlots } from './fleet-source-slots.js';
import { checkHostNameFree } from './host-name-check.js';

/** Fire claims older than this are pruned: a fire is claimed within seconds of its time. */
const CLAIM_RETENTION = '1 day';
/** Pruning runs with a heartbeat at most this often. */
const PRUNE_EVERY_MS = 60 * 60_000;

export interface PostgresCoordinatorOptions {
  readonly url: string;
  readonly host: string;
  readonly pid: number;
  readonly version: string;
  readonly startedAt: string;
  readonly leaseMs: number;
  /** Elapsed-time clock of this host (only to know how long ago the last heartbeat succeeded). */
  readonly monotonicMs?: () => number;
  /** The connection to use instead of opening one (tests); closed by `leave()` all the same. */
  readonly client?: SyncPgClient;
  /** Told when joining waits to see whether another daemon still uses this host name. */
  readonly onNameWait?: (message: string) => void;
}

interface LeaseRow extends Record<string, unknown> {
  host: string;
  expires_at: unknown;
}

interface HostRow extends Record<string, unknown> {
  host: string;
  pid: number;
  version: string;
  started_at: string;
  heartbeat_at: unknown;
  health: 'alive' | 'lost' | 'stopped';
  running: string[] | null;
}

function iso(value: unknown): string {
  const date = value instanceof Date ? value : new Date(String(value));
  return Number.isNaN(date.getTime()) ? String(value) : date.toISOString();
}

/** The coordinator's own connection: the one given (tests), else a new one named after the host. */
function fleetClient(options: PostgresCoordinatorOptions): SyncPgClient {
  return (
    options.client ?? openSyncPgClient({ url: options.url, applicationName: `etld fleet ${options.host}` })
  );
}

export class PostgresCoordinator implements FleetCoordinator {
  readonly host: string;
  readonly shared = true;
  /** The fleet-wide source query slots, on this coordinator's connection; renewed by heartbeat(). */
  readonly sourceSlots: FleetSourceSlots;
  readonly #o: PostgresCoordinatorOptions;
  readonly #db: SyncPgClient;
  readonly #monotonic: () => number;
  /** This process's claim on the host name (fleet_hosts.instance). */
  readonly #instance = randomUUID();
  #lastBeatOk: number;
  #lastPrune = Number.NEGATIVE_INFINITY;
  #closed = false;

  /**
   * Joins the fleet as `options.host`, refusing (CONFIG_INVALID) when another running daemon uses
   * that name (see host-name-check.ts); how the daemon joins.
   */
  static async join(options: PostgresCoordinatorOptions): Promise<PostgresCoordinator> {
    const client = fleetClient(options);
    try {
      await checkHostNameFree({
        db: client,
        host: options.host,
        leaseMs: options.leaseMs,
        ...(options.onNameWait === undefined ? {} : { onWait: options.onNameWait }),
      });
    } catch (error) {
      client.close();
      throw error;
    }
    return new PostgresCoordinator({ ...options, client });
  }

  /** Takes the host name without checking it (tests; the daemon joins with `join`). */
  constructor(options: PostgresCoordinatorOptions) {
    this.#o = options;
    this.host = options.host;
    this.#monotonic = options.monotonicMs ?? (() => performance.now());
    this.#db = fleetClient(options);
    try {
      this.#db.query(
        `INSERT INTO fleet_hosts (host, pid, version, started_at, heartbeat_at, stopped_at, instance)
         VALUES ($1, $2, $3, $4, now(), NULL, $5)
         ON CONFLICT (host) DO UPDATE SET pid = EXCLUDED.pid, version = EXCLUDED.version,
           started_at = EXCLUDED.started_at, heartbeat_at = now(), stopped_at = NULL,
           instance = EXCLUDED.instance`,
        [options.host, options.pid, options.version, options.startedAt, this.#instance],
      );
      this.sourceSlots = new FleetSourceSlots({ db: this.#db, host: options.host, leaseMs: options.leaseMs });
      // Slots left by a previous process of this host: none of its queries runs any more.
      this.sourceSlots.dropAll();
    } catch (error) {
      this.#db.close();
      throw error;
    }
    this.#lastBeatOk = this.#monotonic();
  }

  /** False once a whole lease time passed without a successful heartbeat: leases may be lost. */
  get inContact(): boolean {
    return this.#monotonic() - this.#lastBeatOk < this.#o.leaseMs;
  }

  claimFire(pipeline: string, fireKey: string): boolean {
    const rows = this.#db.query(
      `INSERT INTO fleet_fire_claims (pipeline, fire_key, host) VALUES ($1, $2, $3)
       ON CONFLICT DO NOTHING RETURNING host`,
      [pipeline, fireKey, this.host],
    );
    return rows.length === 1;
  }

  recordFireOutcome(pipeline: string, fireKey: string, outcome: string): void {
    this.#db.query(
      'UPDATE fleet_fire_claims SET outcome = $4 WHERE pipeline = $1 AND fire_key = $2 AND host = $3',
      [pipeline, fireKey, this.host, outcome],
    );
  }

  acquireRunLease(pipeline: string, runId: string): LeaseAnswer {
    if (!this.inContact) {
      // Leases this host believed it held may belong to another host by now: first be sure the
      // store answers again (a heartbeat), or start nothing.
      try {
        this.heartbeat();
      } catch (error) {
        throw new EtlError(
          'STATE_STORE',
          `this host has had no heartbeat with the fleet state store for over a lease time; no run starts until one succeeds (${(error as Error).message})`,
          { retryable: true },
        );
      }
    }
    // Twice: a lease released between the upsert and the look-up is free again.
    for (let attempt = 0; attempt < 2; attempt += 1) {
      const taken = this.#db.query(
        `INSERT INTO fleet_run_leases (pipeline, host, run_id, expires_at)
         VALUES ($1, $2, $3, now() + $4::float8 * interval '1 millisecond')
         ON CONFLICT (pipeline) DO UPDATE
           SET host = EXCLUDED.host, run_id = EXCLUDED.run_id, expires_at = EXCLUDED.expires_at
           WHERE fleet_run_leases.expires_at <= now() OR fleet_run_leases.host = EXCLUDED.host
         RETURNING host`,
        [pipeline, this.host, runId, this.#o.leaseMs],
      );
      if (taken.length === 1) return { granted: true };
      const [holder] = this.#db.query<LeaseRow>(
        'SELECT host, expires_at FROM fleet_run_leases WHERE pipeline = $1',
        [pipeline],
      );
      if (holder !== undefined)
        return { granted: false, holder: holder.host, expiresAt: iso(holder.expires_at) };
    }
    throw new EtlError('STATE_STORE', `the run lease of ${pipeline} changed hands twice while being taken`, {
      retryable: true,
    });
  }

  releaseRunLease(pipeline: string): void {
    this.#db.query('DELETE FROM fleet_run_leases WHERE pipeline = $1 AND host = $2', [pipeline, this.host]);
  }

  leaseHolder(pipeline: string): string | null {
    const [row] = this.#db.query<LeaseRow>(
      'SELECT host, expires_at FROM fleet_run_leases WHERE pipeline = $1 AND expires_at > now()',
      [pipeline],
    );
    return row?.host ?? null;
  }

  heartbeat(): void {
    const prune = this.#monotonic() - this.#lastPrune >= PRUNE_EVERY_MS;
    this.#db.transaction(() => {
      // Only while the name is still this process's: a daemon that was silent for a lease time
      // may find it taken by a new daemon of the same name, and must not share its leases.
      const beat = this.#db.query(
        `INSERT INTO fleet_hosts (host, pid, version, started_at, heartbeat_at, stopped_at, instance)
         VALUES ($1, $2, $3, $4, now(), NULL, $5)
         ON CONFLICT (host) DO UPDATE SET heartbeat_at = now(), stopped_at = NULL
           WHERE fleet_hosts.instance = EXCLUDED.instance
         RETURNING host`,
        [this.host, this.#o.pid, this.#o.version, this.#o.startedAt, this.#instance],
      );
      if (beat.length === 0) {
        const [owner] = this.#db.query<{ pid: number }>('SELECT pid FROM fleet_hosts WHERE host = $1', [
          this.host,
        ]);
        throw new EtlError(
          'ILLEGAL_STATE',
          `the fleet host name ${this.host} was taken by another daemon (pid ${owner?.pid ?? '?'}) while this one could not heartbeat; this daemon starts no run: stop it, or give it its own fleet.host_name`,
        );
      }
      this.#db.query(
        `UPDATE fleet_run_leases SET expires_at = now() + $2::float8 * interval '1 millisecond' WHERE host = $1`,
        [this.host, this.#o.leaseMs],
      );
      this.sourceSlots.renew();
      if (prune)
        this.#db.query(
          `DELETE FROM fleet_fire_claims WHERE claimed_at < now() - interval '${CLAIM_RETENTION}'`,
        );
    });
    this.#lastBeatOk = this.#monotonic();
    if (prune) this.#lastPrune = this.#lastBeatOk;
  }

  hosts(): FleetHost[] {
    const rows = this.#db.query<HostRow>(
      `SELECT h.host, h.pid, h.version, h.started_at, h.heartbeat_at,
              CASE WHEN h.stopped_at IS NOT NULL THEN 'stopped'
                   WHEN h.heartbeat_at > now() - $1::float8 * interval '1 millisecond' THEN 'alive'
                   ELSE 'lost' END AS health,
              array_agg(l.pipeline ORDER BY l.pipeline) FILTER (WHERE l.pipeline IS NOT NULL) AS running
         FROM fleet_hosts h
         LEFT JOIN fleet_run_leases l ON l.host = h.host AND l.expires_at > now()
        GROUP BY h.host
        ORDER BY h.host`,
      [this.#o.leaseMs],
    );
    return rows.map((row) => ({
      host: row.host,
      pid: row.pid,
      version: row.version,
      startedAt: row.started_at,
      heartbeatAt: iso(row.heartbeat_at),
      health: row.health,
      running: row.running ?? [],
    }));
  }

  leave(): void {
    if (this.#closed) return;
    this.#closed = true;
    try {
      this.#db.transaction(() => {
        // A name another daemon took over is left to it, with its leases.
        const mine = this.#db.query(
          'UPDATE fleet_hosts SET stopped_at = now() WHERE host = $1 AND instance = $2 RETURNING host',
          [this.host, this.#instance],
        );
        if (mine.length === 1) {
          this.#db.query('DELETE FROM fleet_run_leases WHERE host = $1', [this.host]);
          this.sourceSlots.dropAll();
        }
      });
    } finally {
      this.#db.close();
    }
  }
}
