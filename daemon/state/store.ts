/**
 * The state store contract. SQLite is the default implementation (sqlite-store.ts); PostgreSQL
 * (postgres-store.ts) keeps the same contract on a database several hosts share, and the store
 * tests run against both. All times are ISO-8601 UTC strings. Methods are synchronous because
 * better-sqlite3 is (the PostgreSQL store waits on a worker thread, pg-sync-client.ts).
 */
import type { ErrorCode } from '../../shared/errors.js';
import type { CheckResult } from '../../shared/protocol.js';
import type { BackfillRange, RunKind, RunKindSpec, RunStatus, RunTrigger } from '../../shared/types.js';

export interface RunRow {
  readonly id: string;
  readonly pipeline: string;
  readonly sequence: number;
  readonly attempt: number;
  readonly status: RunStatus;
  readonly trigger: RunTrigger;
  /** What the run loads; every attempt of a run carries its run's kind. */
  readonly kind: RunKind;
  /** A backfill's range (null for other kinds). */
  readonly backfill: BackfillRange | null;
  /** Who asked for the run (`user (client, connection)`); null for scheduled runs. */
  readonly requestedBy: string | null;
  readonly createdAt: string;
  readonly startedAt: string | null;
  readonly finishedAt: string | null;
  readonly rowsExtracted: number;
  readonly rowsLoaded: number;
  readonly bytes: number;
  readonly verdict: 'match' | 'mismatch' | 'skipped' | 'already_committed' | null;
  /** Source rows the run deliberately did not load (e.g. NULL cursors under `null_cursor: exclude`). */
  readonly rowsExcluded: number;
  /** What the operator should know about the run: exclusions, a held-back high-water mark… */
  readonly notes: readonly string[];
  /** CPU seconds by stage (`extract`, `load`, …) of a succeeded attempt; null otherwise. */
  readonly stages: Readonly<Record<string, number>> | null;
  /** Data quality check results of the attempt (empty when none ran). */
  readonly checks: readonly CheckResult[];
  readonly errorCode: ErrorCode | null;
  readonly errorMessage: string | null;
  /** When the first attempt of this sequence failed (retry_timeout is measured from here). */
  readonly firstFailureAt: string | null;
  /** Engine-owned JSON: the planned watermark range per shard, fixed before extraction starts. */
  readonly planJson: string | null;
}

export interface NewRun {
  readonly pipeline: string;
  readonly sequence: number;
  readonly attempt: number;
  readonly trigger: RunTrigger;
  readonly kind: RunKindSpec;
  readonly requestedBy?: string | null;
  readonly status: RunStatus;
  readonly firstFailureAt?: string | null;
}

/** Which logical runs a listing returns (see `findRuns`). */
export interface RunFilter {
  /** One pipeline, or every pipeline's runs. */
  readonly pipeline?: string;
  /** The run's status (its latest attempt's) is one of these. */
  readonly statuses?: readonly RunStatus[];
  /** The run's first attempt was created at or after this ISO time. */
  readonly since?: string;
  /** Only runs after this one in the listing's order (keyset paging); it must exist. */
  readonly before?: { readonly pipeline: string; readonly sequence: number };
  /** Only runs a text filter matches (shared/record-text.ts), or with `invert` does not. */
  readonly text?: TextFilter;
  readonly limit: number;
}

/** What one bounded step of a run listing found (see `scanRuns`). */
export interface RunScan {
  readonly runs: RunRow[][];
  readonly scannedTo: { readonly pipeline: string; readonly sequence: number } | null;
}

/** A case-insensitive text filter over what a list's row shows; `invert` keeps the others. */
export interface TextFilter {
  readonly text: string;
  readonly invert: boolean;
}

/** Which alerts a listing returns, newest first (see `findAlerts`). */
export interface AlertFilter {
  readonly pipeline?: string;
  /** Only alerts after this one in the listing's order (keyset paging). */
  readonly beforeId?: number;
  readonly text?: TextFilter;
  readonly limit: number;
}

/** An operator change of a pipeline's state and each shard's watermark before and after it. */
export interface StateChangeRow {
  readonly at: string;
  readonly action: string;
  readonly detail: string;
  /** `user (client, connection)`; null for changes recorded before etld 0.2. */
  readonly actor: string | null;
  readonly shards: readonly {
    readonly shard: string;
    readonly old: string | null;
    readonly new: string | null;
  }[];
}

export type NewStateChange = Omit<StateChangeRow, 'at'>;

export type RunPatch = Partial<
  Pick<
    RunRow,
    | 'status'
    | 'startedAt'
    | 'finishedAt'
    | 'rowsExtracted'
    | 'rowsLoaded'
    | 'bytes'
    | 'verdict'
    | 'rowsExcluded'
    | 'notes'
    | 'stages'
    | 'checks'
    | 'errorCode'
    | 'errorMessage'
    | 'firstFailureAt'
    | 'planJson'
  >
>;

export interface RunPartRow {
  readonly runId: string;
  /** `<shard>` or `<shard>/<chunk>`. */
  readonly partId: string;
  readonly shard: string | null;
  readonly chunk: number | null;
  readonly status: 'pending' | 'running' | 'done' | 'failed' | 'cancelled';
  readonly rows: number;
  readonly bytes: number;
  readonly estimatedRows: number | null;
  readonly errorCode: ErrorCode | null;
  readonly errorMessage: string | null;
  readonly startedAt: string | null;
  readonly finishedAt: string | null;
}

/** The columns whose content hash identifies a boundary row (see engine/watermarks.ts). */
export interface BoundaryIdentity {
  readonly columns: readonly string[];
}

/**
 * Per-shard incremental position. `boundary` is the multiset of content hashes of loaded rows the
 * next run reads again; `identity` names the hashed columns (null: keys, as etld 0.1 recorded them).
 */
export interface Watermark {
  readonly shard: string;
  readonly value: string;
  readonly boundary: readonly string[];
  readonly identity: BoundaryIdentity | null;
  readonly sequence: number;
  readonly updatedAt: string;
}

export interface PipelineRuntime {
  readonly paused: boolean;
  readonly pausedAt: string | null;
  /** The last schedule fire time the scheduler acted on (misfire detection across restarts). */
  readonly lastFireAt: string | null;
  /** Why the last expected run did not happen, for `etlctl why`. */
  readonly lastSkipReason: string | null;
  readonly lastSkipAt: string | null;
  /** The highest sequence known committed (reconciled with the destination at start-up). */
  readonly committedSequence: number;
}

export interface AlertRow {
  readonly id: number;
  readonly pipeline: string;
  /** `checks`: a committed run with data quality checks that warned or quarantined rows. */
  readonly kind:
    | 'failure'
    | 'recovery'
    | 'stall'
    | 'low_disk'
    | 'stale'
    | 'fresh'
    | 'checks'
    | 'maintenance'
    | 'files_quarantined'
    | 'state_store';
  readonly runId: string | null;
  readonly createdAt: string;
  readonly status: 'sent' | 'suppressed' | 'failed' | 'pending';
  readonly recipients: string;
  readonly subject: string;
  readonly detail: string | null;
}

/**
 * One entry of a `files` source's ledger: a file the pipeline loaded, or quarantined (it is not
 * read again either way until an operator forgets it). `version` is the store's identity of the
 * content (an ETag, a generation, or size and mtime for local files); `reason` says why a file was
 * quarantined, naming the line or column but never a row's values.
 */
export interface SourceFileRecord {
  readonly key: string;
  readonly size: number;
  readonly version: string;
  readonly modifiedAt: string;
  readonly status: 'loaded' | 'quarantined';
  /** The run sequence that committed the entry. */
  readonly sequence: number;
  /** The attempt that loaded or quarantined it (`<pipeline>-<sequence>-<attempt>`). */
  readonly runId: string;
  readonly reason: string | null;
  readonly recordedAt: string;
}

/** A ledger entry as a run commits it; the store adds the sequence, the run and the time. */
export type NewSourceFile = Omit<SourceFileRecord, 'sequence' | 'runId' | 'recordedAt'>;

/** Which ledger entries a listing returns (see `listSourceFiles`). */
export interface SourceFileFilter {
  readonly status?: 'loaded' | 'quarantined';
  /** Only keys after this one (keyset paging: the last key of the page before). */
  readonly after?: string;
  readonly limit: number;
  /** Only entries whose key or reason contains this text, ignoring case (shared/record-text.ts). */
  readonly text?: string;
}

/** A pipeline's ledger in figures. */
export interface SourceFileTotals {
  loaded: number;
  quarantined: number;
  /** The sizes of the loaded files added up. */
  loadedBytes: number;
  /** The newest entry's time; null for an empty ledger. */
  lastRecordedAt: string | null;
}

/**
 * One table of a multi-table run (docs/multi-table.md). The table loads as a run of its own under
 * the state name `member` (`<pipeline>/<table>`), with its own sequence (`memberSequence`, null
 * until it started) and attempts in `runs`; this row ties it to the pipeline's run and keeps its
 * outcome for `status`, `history --table` and retries (a retry of the pipeline's run loads only the
 * tables not yet succeeded, each with its own sequence again).
 */
export interface RunTableRow {
  readonly pipeline: string;
  /** The pipeline's run sequence. */
  readonly sequence: number;
  /** The table as the source names it (`public."Order Items"`). */
  readonly table: string;
  readonly member: string;
  readonly memberSequence: number | null;
  readonly status: RunTableStatus;
  /** Attempts of the table in this run (0 until it started). */
  readonly attempts: number;
  readonly rowsExtracted: number;
  readonly rowsLoaded: number;
  readonly bytes: number;
  readonly verdict: RunRow['verdict'];
  readonly errorCode: ErrorCode | null;
  readonly errorMessage: string | null;
  /** Whether the table's failure may pass with a retry (decides the pipeline run's retry). */
  readonly retryable: boolean;
  readonly updatedAt: string;
}

/**
 * pending: planned, not started; running; succeeded; failed (this run); cancelled (the run
 * stopped, or `on_table_error: fail_run` after another table failed); refused (the table cannot load
 * as configured: no cursor column, no key for merge…); gone (loaded before, no longer in the source).
 */
export type RunTableStatus =
  'pending' | 'running' | 'succeeded' | 'failed' | 'cancelled' | 'refused' | 'gone';

export type RunTablePatch = Partial<
  Omit<RunTableRow, 'pipeline' | 'sequence' | 'table' | 'member' | 'updatedAt'>
>;

export interface StateStore {
  readonly path: string;
  close(): void;

  getRuntime(pipeline: string): PipelineRuntime;
  setPaused(pipeline: string, paused: boolean): void;
  markFire(pipeline: string, fireAt: string): void;
  markSkip(pipeline: string, reason: string, at: string): void;
  setCommittedSequence(pipeline: string, sequence: number): void;
  /**
   * The file each pipeline was last loaded from: of several files claiming one name, this one
   * keeps it, across reloads and restarts (shared/config/claims.ts).
   */
  pipelineFiles(): Map<string, string>;
  setPipelineFiles(pipelines: readonly { readonly name: string; readonly file: string }[]): void;

  /** max(sequence of any run, committed sequence) + 1. */
  nextSequence(pipeline: string): number;
  insertRun(run: NewRun): RunRow;
  updateRun(id: string, patch: RunPatch): RunRow;
  getRun(id: string): RunRow | undefined;
  /** Attempt rows, newest first. */
  listRuns(pipeline: string, limit: number): RunRow[];
  /**
   * Logical runs: one entry per sequence, newest first, each its attempts in order (a run keeps
   * its sequence across retries).
   */
  listRunAttempts(pipeline: string, limit: number): RunRow[][];
  /**
   * Logical runs matching `filter` across pipelines, newest first (by their first attempt's
   * creation, then sequence, then pipeline: a total order, so paging with `before` neither skips
   * nor repeats a run), each its attempts in order; `limit` counts runs. One query, however many
   * runs it passes: the control socket lists in bounded steps instead (run-listing.ts).
   */
  findRuns(filter: RunFilter): RunRow[][];
  /**
   * One bounded step of `findRuns`: examines at most `window` runs (a default that keeps the event
   * loop free) after `filter.before`. `scannedTo` is where to go on when the window ended before
   * `limit` matches were found, null when the page is full or the listing has ended.
   */
  scanRuns(filter: RunFilter, window?: number): RunScan;
  /** The attempts of one sequence, in order (empty when there is none). */
  attemptsOf(pipeline: string, sequence: number): RunRow[];
  runsWithStatus(statuses: readonly RunStatus[]): RunRow[];
  /**
   * The newest succeeded attempt of a run of one of `kinds` (default: normal runs and full
   * refreshes, the runs that read up to the high-water mark; a backfill re-reads the past).
   */
  lastSuccess(pipeline: string, kinds?: readonly RunKind[]): RunRow | undefined;
  runsSince(pipeline: string, sinceIso: string): RunRow[];

  upsertPart(part: RunPartRow): void;
  listParts(runId: string): RunPartRow[];

  getWatermarks(pipeline: string): Watermark[];
  /**
   * An operator's correction (`etlctl watermark set|reset`): replaces every watermark of the
   * pipeline and sets its committed sequence exactly (it may go down), recording the change.
   */
  replaceWatermarks(
    pipeline: string,
    committedSequence: number,
    watermarks: readonly Omit<Watermark, 'updatedAt' | 'sequence'>[],
    change: NewStateChange,
  ): void;
  /** Operator changes of the pipeline's state, newest first (`since`: at or after that ISO time). */
  listStateChanges(pipeline: string, limit: number, since?: string): StateChangeRow[];
  /**
   * Records a run's watermarks with its sequence as committed, in one transaction: each given
   * shard's watermark is replaced; with `replaceAll` (a full refresh) the shards not given lose theirs.
   */
  commitWatermarks(
    pipeline: string,
    sequence: number,
    watermarks: readonly Omit<Watermark, 'updatedAt' | 'sequence'>[],
    options?: { readonly replaceAll?: boolean },
  ): void;

  /** Recorded entries for these keys (any number of keys; queried in batches of ≤500). */
  lookupSourceFiles(pipeline: string, keys: readonly string[]): Map<string, SourceFileRecord>;
  /**
   * In ONE transaction: the committed sequence (only ever raised, as setCommittedSequence does)
   * and the files (upserted by key). `replaceLoaded`: the pipeline's earlier 'loaded' rows are
   * deleted first (full mode: the current set replaces the table).
   */
  commitSourceFiles(
    pipeline: string,
    sequence: number,
    runId: string,
    files: readonly NewSourceFile[],
    options?: { readonly replaceLoaded?: boolean },
  ): void;
  /** Keyset paging in key order. */
  listSourceFiles(pipeline: string, options: SourceFileFilter): SourceFileRecord[];
  sourceFileTotals(pipeline: string): SourceFileTotals;
  /**
   * Removes entries so the files load again (operator action); all of the pipeline's when keys
   * is undefined; returns how many.
   */
  forgetSourceFiles(pipeline: string, keys?: readonly string[]): number;

  /** Creates or updates the row of `table` in the pipeline's run `sequence` (multi-table runs). */
  upsertRunTable(
    pipeline: string,
    sequence: number,
    table: string,
    member: string,
    patch: RunTablePatch,
  ): RunTableRow;
  /** The tables of one run of a multi-table pipeline, by table name. */
  listRunTables(pipeline: string, sequence: number): RunTableRow[];
  /** Every table a multi-table pipeline has loaded or planned, with its newest run's row. */
  latestRunTables(pipeline: string): RunTableRow[];

  recordAlert(alert: Omit<AlertRow, 'id' | 'createdAt'> & { createdAt?: string }): AlertRow;
  updateAlert(id: number, status: AlertRow['status'], detail?: string | null): void;
  /** Newest first. */
  listAlerts(pipeline: string, sinceIso: string): AlertRow[];
  /** Every pipeline's and the host's alerts (or one pipeline's), newest first (creation, then id). */
  findAlerts(filter: AlertFilter): AlertRow[];

  recordSchema(pipeline: string, columnsJson: string): void;
  latestSchema(pipeline: string): string | null;

  /** A trivial read (`/readyz`): throws when the store cannot answer. */
  ping(): void;
}
