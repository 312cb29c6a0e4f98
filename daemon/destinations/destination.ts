/**
 * The destination contract. The run engine stages every run in a per-run DuckDB database: when a
 * destination is called, the final rows (transforms and `_etl_*` metadata columns applied) sit in
 * one DuckDB table, typed with the DuckDB types of `stagingDuckType()` for each canonical column.
 * A destination reads them from there (COPY … TO Parquet/NDJSON/CSV, ATTACH, or a query) and commits
 * them in one atomic step together with the run sequence, which is its record of what was committed
 * (SPEC §5: Delta `txn`, an `_etld_commits` table, deterministic BigQuery job ids).
 */
import type { DuckDBConnection } from '@duckdb/node-api';
import type { ConnectionConfig } from '../../shared/config/common-schema.js';
import type { DestinationConfig, DestinationKind } from '../../shared/config/pipeline-schema.js';
import type { ColumnSchema } from '../../shared/types.js';
import type { Logger } from '../logging/logger.js';
import type { ResolvedConnection } from '../sources/source.js';

export interface StagedBatch {
  /** A connection to the run's staging DuckDB; `SET TimeZone='UTC'` is already in force. */
  readonly connection: DuckDBConnection;
  /** Quoted name of the DuckDB table holding the final rows. */
  readonly relation: string;
  /** Final columns in order, including `_etl_run_id`, `_etl_loaded_at`, `_etl_pipeline` (and `_etl_shard`). */
  readonly columns: readonly ColumnSchema[];
  readonly rowCount: number;
  /** A directory inside the run's temp directory for the destination's own files; removed after the run. */
  readonly workDir: string;
}

export type LoadMode = 'full' | 'incremental' | 'merge';

export interface CommitRequest {
  readonly pipeline: string;
  readonly runId: string;
  /** Monotonic per pipeline; retries of one run keep it. */
  readonly sequence: number;
  readonly mode: LoadMode;
  /** merge: the upsert key; the newest row per key wins (by `cursor` when set, else staging order). */
  readonly key: readonly string[] | undefined;
  readonly cursor: string | undefined;
  readonly schemaEvolution: 'add_columns' | 'strict';
  readonly batch: StagedBatch;
  readonly signal: AbortSignal;
}

export interface CommitResult {
  readonly rowsLoaded: number;
  /** The destination already held this sequence: nothing was written. */
  readonly alreadyCommitted: boolean;
  /** With `alreadyCommitted`: the run attempt whose commit the destination holds, when it records that. */
  readonly committedRunId?: string | null;
  /** Free-form figures for the run log (files written, job ids, bytes…). */
  readonly details: Readonly<Record<string, string | number>>;
}

export interface CommittedSequence {
  readonly sequence: number;
  /** `<pipeline>-<sequence>-<attempt>` of the committing attempt; null when the destination does not record it. */
  readonly runId: string | null;
}

/** One column difference between the destination table and the incoming rows. */
export interface SchemaChange {
  readonly column: string;
  readonly change: 'add' | 'type' | 'drop' | 'create';
  /** e.g. `decimal(18,2) → decimal(20,2)` */
  readonly detail: string;
}

export interface Destination {
  /** Short description for `plan` and logs, e.g. `delta /var/lib/etld/lake/orders`. */
  readonly label: string;
  /**
   * Compares the destination table (if any) with the incoming columns under the evolution policy.
   * Returns the changes that a commit would apply (`create`, `add`); throws EtlError SCHEMA_MISMATCH
   * naming the column and both types for a changed type or a vanished column (or any difference
   * under `strict`). Writes nothing.
   */
  planSchema(
    incoming: readonly ColumnSchema[],
    policy: 'add_columns' | 'strict',
    signal?: AbortSignal,
  ): Promise<SchemaChange[]>;
  /**
   * The highest run sequence of `pipeline` this destination has committed (and the run attempt
   * that committed it, when the destination records it), or null when it holds none.
   */
  committedSequence(pipeline: string, signal?: AbortSignal): Promise<CommittedSequence | null>;
  /** Commits the batch atomically with its sequence; if the sequence is already committed, writes nothing. */
  commit(request: CommitRequest): Promise<CommitResult>;
  /** Releases files and connections; idempotent. */
  close(): Promise<void>;
}

export interface DestinationContext {
  /** Relative destination paths resolve under this directory (SPEC §6). */
  readonly lakeDir: string;
  readonly logger: Logger;
  /** Resolves a connection's secret (password_env / password_file). */
  resolveConnection(connection: ConnectionConfig): ResolvedConnection;
}

export interface DestinationDialect<K extends DestinationKind = DestinationKind> {
  readonly kind: K;
  create(config: Extract<DestinationConfig, { type: K }>, context: DestinationContext): Destination;
}
