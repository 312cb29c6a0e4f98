/**
 * Fleet mode's reads of the shared PostgreSQL state store: the pipeline's newest run (as
 * daemon-recovery.ts reads it from SQLite) and its run lease in `fleet_run_leases`.
 *
 * Decisions:
 * - A database the daemons have not migrated yet (no `runs` or no `fleet_run_leases`: a host killed
 *   during its very first start-up) holds no run and no lease.
 * - Runs are ordered as the daemon's own listing orders them (created_at, sequence, attempt): the
 *   PostgreSQL store has no rowid to break ties with.
 * - A lease is live while `expires_at` is ahead of the server's `now()`, the clock the daemons judge
 *   leases by (docs/fleet.md).
 */
import type { SqlTarget } from './sql-target.js';

export interface PgRunRow {
  readonly id: string;
  readonly status: string;
  readonly verdict: string | null;
}

export interface RunLease {
  readonly host: string;
  readonly runId: string;
  readonly live: boolean;
}

async function hasTable(target: SqlTarget, database: string, table: string): Promise<boolean> {
  const rows = await target.run(database, 'SELECT to_regclass($1) IS NOT NULL AS present', [table]);
  return rows[0]?.present === true;
}

export async function newestRunPostgres(
  target: SqlTarget,
  database: string,
  pipeline: string,
): Promise<PgRunRow | null> {
  if (!(await hasTable(target, database, 'runs'))) return null;
  const rows = await target.run(
    database,
    `SELECT id, status, verdict FROM runs WHERE pipeline = $1
      ORDER BY created_at DESC, sequence DESC, attempt DESC LIMIT 1`,
    [pipeline],
  );
  const row = rows[0];
  if (row === undefined) return null;
  return {
    id: String(row.id),
    status: String(row.status),
    verdict: typeof row.verdict === 'string' ? row.verdict : null,
  };
}

export async function runLease(
  target: SqlTarget,
  database: string,
  pipeline: string,
): Promise<RunLease | null> {
  if (!(await hasTable(target, database, 'fleet_run_leases'))) return null;
  const rows = await target.run(
    database,
    'SELECT host, run_id, expires_at > now() AS live FROM fleet_run_leases WHERE pipeline = $1',
    [pipeline],
  );
  const row = rows[0];
  if (row === undefined) return null;
  return { host: String(row.host), runId: String(row.run_id), live: row.live === true };
}

/** Waits until the pipeline has no live run lease (polling the server's clock), at most `timeoutMs`. */
export async function waitForLeaseExpiry(
  target: SqlTarget,
  database: string,
  pipeline: string,
  timeoutMs: number,
): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const lease = await runLease(target, database, pipeline);
    if (lease?.live !== true) return true;
    if (Date.now() > deadline) return false;
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}
