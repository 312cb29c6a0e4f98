/**
 * The source side of one chaos pipeline: its shard databases on the shared server, the table in
 * each, and the harness's bookkeeping for the workload (next id per shard, the cursor counter,
 * added columns, an open late-committing transaction).
 *
 * Decisions:
 * - Unsharded pipelines share one database per session and server (`<tag>_src`); a sharded one
 *   gets two databases of its own (`<tag>_<pipeline>_s1`, `_s2`), each with the same table.
 * - Ids are assigned by the harness, per shard from 1, so they collide across shards as separate
 *   id sequences would.
 */
import { createTableSql } from './source-schema.js';
import type { SqlSession, SqlTarget } from './sql-target.js';
import type { PipelineSpec } from './world.js';

export interface Shard {
  /** `default` for unsharded sources, else the shard name written into `_etl_shard`. */
  readonly name: string;
  readonly database: string;
}

export interface LateTxn {
  readonly session: SqlSession;
  readonly shard: Shard;
  /** PostgreSQL `now()` of the transaction, normalised (timestamptz), or null for MariaDB. */
  readonly startedAt: string | null;
  /** Harness clock when it opened, and when it ended (null while open). */
  readonly openedMs: number;
  closedMs: number | null;
  readonly commit: boolean;
  readonly rows: number;
}

export interface PipelineSource {
  readonly spec: PipelineSpec;
  readonly target: SqlTarget;
  readonly shards: readonly Shard[];
  /** Columns added so far with ALTER TABLE. */
  added: number;
  readonly nextId: Map<string, number>;
  /** Text/integer cursors: the last counter value handed out. */
  cursorCounter: number;
  lastCursorValue: string | number | null;
  lateTxn: LateTxn | null;
}

export function sharedSourceDatabase(tag: string): string {
  return `${tag}_src`;
}

export async function createPipelineSource(
  spec: PipelineSpec,
  target: SqlTarget,
  tag: string,
): Promise<PipelineSource> {
  const shards: Shard[] = spec.sharded
    ? [
        { name: 's1', database: `${tag}_${spec.name}_s1` },
        { name: 's2', database: `${tag}_${spec.name}_s2` },
      ]
    : [{ name: 'default', database: sharedSourceDatabase(tag) }];
  for (const shard of shards) {
    if (spec.sharded) await target.createDatabase(shard.database);
    await target.run(shard.database, createTableSql(spec, target.kind));
  }
  return {
    spec,
    target,
    shards,
    added: 0,
    nextId: new Map(shards.map((s) => [s.name, 1])),
    cursorCounter: 0,
    lastCursorValue: null,
    lateTxn: null,
  };
}

export function takeId(source: PipelineSource, shard: Shard): number {
  const id = source.nextId.get(shard.name) ?? 1;
  source.nextId.set(shard.name, id + 1);
  return id;
}

/** Ends the open late transaction as decided when it was opened (commit or rollback). */
export async function endLateTxn(source: PipelineSource): Promise<void> {
  const txn = source.lateTxn;
  if (txn === null) return;
  source.lateTxn = null;
  try {
    await txn.session.run(txn.commit ? 'COMMIT' : 'ROLLBACK');
  } finally {
    txn.closedMs = Date.now();
    await txn.session.close();
  }
}

export async function dropPipelineSource(source: PipelineSource): Promise<void> {
  await endLateTxn(source).catch(() => undefined);
  if (source.spec.sharded) {
    for (const shard of source.shards)
      await source.target.dropDatabase(shard.database).catch(() => undefined);
  }
}
