/**
 * The destination contract. A run loads into a destination in two phases:
 *
 * 1. `beginLoad` plans the load (schema changes, the table's state), then `writePart` writes the
 *    batch part by part where nothing is visible yet: Parquet files no Delta log references yet,
 *    load files, files for one transaction. A part is a SELECT on a connection of the run's
 *    staging DuckDB returning the final columns (transforms and `_etl_*` metadata applied, typed
 *    with `stagingDuckType()`); it may read a stream that is still being extracted, so a run's
 *    bytes go from the source through DuckDB into destination files in one pass. Parts may be
 *    written concurrently, on different connections.
 * 2. `commit` makes every part visible in one atomic step together with the run sequence, which
 *    is the destination's record of what was committed (Delta `txn`, an `_etld_commits` table,
 *    deterministic BigQuery job ids); `abort` removes what was written.
 *
 * A merge load is one part over a staged table (`BatchPart.table`): merging needs the whole batch.
 */
import type { ResolvedConnection } from '../config/resolved-connection.js';
import type { SecretEnvironment } from '../config/secrets.js';
import type { DuckDBConnection } from '@duckdb/node-api';
import type { ConnectionConfig } from '../../shared/config/common-schema.js';
import type { DestinationConfig, DestinationKind } from '../../shared/config/pipeline-schema.js';
import type { ColumnSchema } from '../../shared/types.js';
import type { Logger } from '../logging/logger.js';
import { EtlError } from '../../shared/errors.js';
import type { AccessCheck, AccessCheckRequest } from './access-check.js';

/** One part of a batch, on a connection of the run's staging DuckDB. */
export interface BatchPart {
  /** `SET TimeZone='UTC'` is in force. */
  readonly connection: DuckDBConnection;
  /** A SELECT returning the load's columns in order. */
  readonly select: string;
  /**
   * When set (always for merge), a table of the staging database holding exactly the part's rows
   * and columns (`select` is `SELECT * FROM` it); its `rowid` is the staging order, which breaks
   * cursor ties when a batch holds a key twice.
   */
  readonly table?: string;
  /** Names the part in messages and file names (`s1/3`, `staged`). */
  readonly id: string;
}

/**
 * `append_missing` (a backfill in append mode): append only the batch rows the table does not
 * hold yet, compared on `LoadRequest.compare` as multisets (a row the batch has twice and the
 * table once is appended once), inside the commit's transaction. Only destinations that declare
 * `appendsMissing` accept it.
 */
export type LoadMode = 'full' | 'incremental' | 'merge' | 'append_missing';

export interface LoadRequest {
  readonly pipeline: string;
  readonly runId: string;
  /** Monotonic per pipeline; retries of one run keep it. */
  readonly sequence: number;
  readonly mode: LoadMode;
  /** merge: the upsert key; the newest row per key wins (by `cursor` when set, else staging order). */
  readonly key: readonly string[] | undefined;
  readonly cursor: string | undefined;
  /**
   * append_missing: the columns that say whether the table holds a row already (every loaded
   * column but the per-run `_etl_*` metadata).
   */
  readonly compare?: readonly string[];
  readonly schemaEvolution: 'add_columns' | 'strict';
  /** The load's columns in order, including `_etl_run_id`, `_etl_loaded_at`, `_etl_pipeline` (and `_etl_shard`). */
  readonly columns: readonly ColumnSchema[];
  /** A directory inside the run's temp directory for the destination's own files; removed after the run. */
  readonly workDir: string;
  /** The run's DuckDB budget (`defaults.memory_limit`, `defaults.threads`), for a destination's own DuckDB work. */
  readonly duckdb?: { readonly memoryLimit: string; readonly threads: number };
  readonly signal: AbortSignal;
}

/** A load in progress (see the contract above). */
export interface DestinationLoad {
  /** Writes one part where nothing sees it yet; resolves with the rows written. */
  writePart(part: BatchPart): Promise<number>;
  /**
   * Optional: the rows that `writePart` wrote for part `id`, read back from the local Parquet files
   * it wrote, as a DuckDB SELECT with one column per load column (named as in
   * `LoadRequest.columns`; values as written, which the caller casts back to its staging types),
   * or null when the part wrote no file. Offered only where the files hold exactly the part's rows
   * and columns: reading a few Parquet columns costs about a tenth of parsing the part's CSV a
   * second time, so the data quality checks of a streamed run read the parts here.
   */
  readonly readBack?: ((id: string) => string | null) | undefined;
  /** Makes every written part visible with the run sequence; if the sequence is already committed, writes nothing. */
  commit(): Promise<CommitResult>;
  /** Removes what `writePart` wrote; idempotent, never rejects. */
  abort(): Promise<void>;
}

export interface CommitResult {
  readonly rowsLoaded: number;
  /** The destination already held this sequence: nothing was written. */
  readonly alreadyCommitted: boolean;
  /** append_missing: the batch rows the table held already, which were not appended again. */
  readonly rowsSkipped?: number;
  /** With `alreadyCommitted`: the run attempt whose commit the destination holds, when it records that. */
  readonly committedRunId?: string | null;
  /** Free-form figures for the run log (files written, job ids, bytes…). */
  readonly details: Readonly<Record<string, string | number>>;
  /** Upkeep after the commit that failed (the commit stands): logged as an error by the destination. */
  readonly maintenanceFailure?: MaintenanceFailure;
}

/**
 * Table upkeep that failed after a successful commit, e.g. a Delta checkpoint. The run still
 * succeeds; a table whose upkeep keeps failing is alerted (kind `maintenance`).
 */
export interface MaintenanceFailure {
  /** The table, as messages name it. */
  readonly table: string;
  /** What failed, e.g. `checkpoint`. */
  readonly task: string;
  /** How many times in a row it failed for this table, this time included. */
  readonly consecutiveFailures: number;
  /** The last failure's message. */
  readonly message: string;
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
   * Whether loads in `append_missing` mode are offered (backfills of append pipelines): the commit
   * compares the batch with the table's rows in its own transaction.
   */
  readonly appendsMissing: boolean;
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
  /** Plans a load of `request.columns`; nothing is written until parts arrive, nothing visible until commit. */
  beginLoad(request: LoadRequest): Promise<DestinationLoad>;
  /**
   * Optional: removes data files no snapshot references any more (orphans of failed or cancelled
   * runs, files an overwrite replaced) once older than the table's retention (`etlctl vacuum`).
   * Offered by destinations that keep such files (Delta); the others delete inside their own
   * transactions and leave nothing to vacuum.
   */
  vacuum?(options: VacuumRequest): Promise<VacuumOutcome>;
  /** Releases files and connections; idempotent. */
  close(): Promise<void>;
  /**
   * Optional (`etlctl test`): connects and checks what a run in `request.mode` needs of the
   * destination (the table or its absence, the privileges, the directory's permissions), writing
   * and creating nothing. Each check is recorded (access-check.ts); none throws.
   */
  checkAccess?(request: AccessCheckRequest): Promise<AccessCheck[]>;
  /**
   * Destinations that bill by bytes scanned (BigQuery): the bytes the queries of a load in `mode`
   * of `loadFiles` files holding `loadBytes` in all would process, estimated from those sizes and
   * the target table's size (how many files decides whether the load goes through a staging
   * table); reads only.
   */
  estimateQueryBytes?(
    mode: LoadMode,
    loadBytes: number,
    loadFiles: number,
    signal?: AbortSignal,
  ): Promise<{ readonly queryBytes: number; readonly detail: string }>;
}

/** What a destination without `appendsMissing` answers a load in that mode (never an append). */
export function appendMissingRefused(label: string): EtlError {
  return new EtlError(
    'ILLEGAL_STATE',
    `${label} cannot append only the rows it does not hold yet, which a backfill of an append pipeline needs; ` +
      'use merge mode, or start --full-refresh',
  );
}

export interface VacuumRequest {
  /** List what would be removed, remove nothing. */
  readonly dryRun: boolean;
  /** Epoch ms: the clock the retention is measured against. */
  readonly now: number;
}

export interface VacuumOutcome {
  /** Removed (dry run: removable) files, relative to the table. */
  readonly files: string[];
  readonly bytes: number;
}

export interface DestinationContext {
  /** Relative destination paths resolve under this directory. */
  readonly lakeDir: string;
  readonly logger: Logger;
  /** Resolves a connection's secret (password_env / password_file). */
  resolveConnection(connection: ConnectionConfig): ResolvedConnection;
  /** The daemon's environment, for secrets by `*_env` / `*_file` (object-store credentials). */
  readonly secrets?: SecretEnvironment;
}

export interface DestinationDialect<K extends DestinationKind = DestinationKind> {
  readonly kind: K;
  create(config: Extract<DestinationConfig, { type: K }>, context: DestinationContext): Destination;
}
