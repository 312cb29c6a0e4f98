/**
 * Which rows of a step's snapshot a correct daemon may defer: PostgreSQL pipelines with a time
 * cursor (timestamptz, timestamp, date) hold the high-water mark below the oldest open transaction
 * (`load.open_transactions: wait`). Every late transaction the harness had open on the server
 * during the step (from the snapshot read to the daemon's exit) counts, whichever pipeline opened
 * it, because the daemon may consider every open transaction of the server.
 *
 * The bound is the earliest such transaction's start, in the cursor's own type: the instant for
 * timestamptz, the UTC wall time truncated to the second for timestamp (PostgreSQL runs in UTC),
 * the day for date. Rows at or above it may be missing; MariaDB pipelines use `lag` instead and
 * defer nothing.
 */
import type { LateTxn } from './pipeline-source.js';
import type { PipelineSpec } from './world.js';

export function deferralBound(
  spec: PipelineSpec,
  step: { readonly startedMs: number; readonly endedMs: number },
  lateTxns: readonly LateTxn[],
): string | null {
  if (spec.source !== 'postgres') return null;
  if (spec.cursor !== 'pg_tstz_now' && spec.cursor !== 'pg_ts0' && spec.cursor !== 'pg_date') return null;
  let earliest: string | null = null;
  for (const txn of lateTxns) {
    if (txn.startedAt === null || txn.openedMs > step.endedMs) continue;
    if (txn.closedMs !== null && txn.closedMs < step.startedMs) continue;
    if (earliest === null || txn.startedAt < earliest) earliest = txn.startedAt;
  }
  if (earliest === null) return null;
  // earliest: 'YYYY-MM-DD HH:MM:SS.ffffffZ' (UTC).
  if (spec.cursor === 'pg_tstz_now') return earliest;
  if (spec.cursor === 'pg_ts0') return `${earliest.slice(0, 19)}.000000`;
  return earliest.slice(0, 10);
}
