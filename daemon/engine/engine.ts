/**
 * What the daemon asks of the run engine. The supervisor (scheduler/) owns run rows and their
 * status transitions, retries and alerts; the engine executes one attempt: plan shards × chunks,
 * extract in parallel, stage in DuckDB, transform, check the schema, commit to the destination with
 * the run sequence, then commit watermarks to the state store.
 */
import type { LoadedPipeline } from '../../shared/config/pipeline-files.js';
import type { CheckResult, ConnectionTest, Plan, Preview, RunPart } from '../../shared/protocol.js';
import type { PendingFiles } from '../../shared/protocol-files.js';
import type { BackfillRange, ColumnSchema, RunKindSpec, RunTrigger } from '../../shared/types.js';
import type { MaintenanceFailure, VacuumOutcome } from '../destinations/destination.js';
import type { Logger } from '../logging/logger.js';
import type { StageSeconds } from './stage-clock.js';

export interface ProgressSnapshot {
  readonly phase: 'planning' | 'extracting' | 'staging' | 'committing' | 'waiting';
  readonly rows: number;
  readonly bytes: number;
  readonly rowsPerSecond: number;
  readonly parts: readonly RunPart[];
}

/** Caps concurrent source queries per source host across all pipelines. */
export interface SourceGovernor {
  /** Resolves with a release function once a slot on `hostKey` is free; rejects CANCELLED on abort. */
  acquire(hostKey: string, signal: AbortSignal, onWait?: () => void): Promise<() => void>;
}

export interface RunRequest {
  readonly pipeline: LoadedPipeline;
  readonly runId: string;
  readonly sequence: number;
  readonly attempt: number;
  readonly trigger: RunTrigger;
  /** What the run loads (run-kinds.ts); every attempt of a run has its run's kind. */
  readonly kind: RunKindSpec;
  readonly signal: AbortSignal;
  readonly logger: Logger;
  /** Called often (at most every ~250 ms); the stall watchdog watches `rows`/`bytes`. */
  onProgress(progress: ProgressSnapshot): void;
}

/** Named points of an attempt where a test can stop the process (the chaos harness's faults). */
export type FailpointName =
  'after-quarantine-commit' | 'before-destination-commit' | 'after-destination-commit' | 'after-state-commit';

export interface RunOutcome {
  readonly rowsExtracted: number;
  readonly rowsLoaded: number;
  /** Source rows not loaded on purpose (NULL cursors under `load.null_cursor: exclude`). */
  readonly rowsExcluded: number;
  /** What the operator should know: exclusions, skipped re-read rows, a held-back high-water mark. */
  readonly notes: readonly string[];
  readonly bytes: number;
  readonly verdict: 'match' | 'mismatch' | 'skipped' | 'already_committed';
  readonly alreadyCommitted: boolean;
  readonly watermarkFrom: string | null;
  readonly watermarkTo: string | null;
  /** CPU seconds by stage of the attempt (stage-clock.ts); empty when nothing was loaded. */
  readonly stages: StageSeconds;
  /** The data quality checks judged on the batch (also in the run's row); empty when none ran. */
  readonly checks: readonly CheckResult[];
  /** Files of a files source kept out of the load (`on_bad_file: skip`), with why (no row data). */
  readonly quarantinedFiles?: readonly { readonly key: string; readonly reason: string }[];
  /** Table upkeep after the commit that failed (a Delta checkpoint); the run still succeeded. */
  readonly maintenanceFailure?: MaintenanceFailure;
}

/** Operator-given cursor values, checked and written as the source writes that column's values. */
export interface CursorValues {
  readonly cursor: ColumnSchema;
  /** In the given order, in the canonical text a high-water mark of that column has. */
  readonly values: readonly string[];
}

export interface RunEngine {
  /** Executes one attempt. Rejects with an EtlError (code + retryable) on failure or cancellation. */
  execute(request: RunRequest): Promise<RunOutcome>;
  /** What the next run would do, writing nothing. */
  plan(pipeline: LoadedPipeline, signal?: AbortSignal): Promise<Plan>;
  /**
   * A files source's pending files: what its next run would take (at most `limit`), from the
   * store's listing and the file ledger, writing nothing. USAGE for a pipeline that reads no files.
   */
  pendingFiles(pipeline: LoadedPipeline, limit: number, signal?: AbortSignal): Promise<PendingFiles>;
  /** The first transformed rows, writing nothing; `table`: which table of a multi-table pipeline. */
  preview(pipeline: LoadedPipeline, limit: number, signal?: AbortSignal, table?: string): Promise<Preview>;
  /**
   * Start-up reconciliation: asks the destination for its committed sequence and brings the state
   * store in line (a crash between destination commit and state update). Returns the sequence.
   */
  reconcile(pipeline: LoadedPipeline, signal?: AbortSignal): Promise<number | null>;
  /** The highest sequence of the pipeline the destination holds (null: none); reads only. */
  committedInDestination(pipeline: LoadedPipeline, signal?: AbortSignal): Promise<number | null>;
  /** The problems only the source can show (its table, columns, the checks' SQL); reads no row. */
  validateAgainstSource(pipeline: LoadedPipeline, signal?: AbortSignal): Promise<string[]>;
  /**
   * Checks operator-given values of the pipeline's cursor column (`etlctl watermark set`,
   * `backfill`) against its type by asking the source to read them as that type; USAGE names the
   * pipeline, the column, its type and the value that does not fit. Reads no row.
   */
  cursorValues(
    pipeline: LoadedPipeline,
    values: readonly string[],
    signal?: AbortSignal,
  ): Promise<CursorValues>;
  /**
   * What a backfill of `range` needs before it is started: a pipeline that keeps watermarks, a
   * destination that can load it in the pipeline's mode, a range in the cursor's type with `from`
   * below `to`. Returns the range in canonical text; throws USAGE or ILLEGAL_STATE.
   */
  checkBackfill(pipeline: LoadedPipeline, range: BackfillRange, signal?: AbortSignal): Promise<BackfillRange>;
  /** `etlctl vacuum`: the destination's unreferenced files; ILLEGAL_STATE where it keeps none. */
  vacuum(
    pipeline: LoadedPipeline,
    options: { readonly dryRun: boolean; readonly now: Date },
  ): Promise<VacuumOutcome>;
  /**
   * `etlctl test`: connects to each source shard (within its host's source slots) and to the
   * destination, and checks the table, the columns and the permissions a run needs. Moves no row,
   * creates nothing; a failing check is reported, never thrown.
   */
  testConnections(pipeline: LoadedPipeline, signal?: AbortSignal): Promise<ConnectionTest>;
}
