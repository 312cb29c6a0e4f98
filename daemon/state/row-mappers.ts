/**
 * Stored rows to the store's records, shared by the SQLite and PostgreSQL stores: both keep the
 * same columns with the same values (times as ISO text, JSON as text, flags as 0/1 integers), so a
 * record reads the same whichever store wrote it.
 */
import { storedErrorCode } from '../../shared/errors.js';
import type { CheckResult } from '../../shared/protocol.js';
import { RUN_KINDS, type BackfillRange, type RunKind, type RunStatus } from '../../shared/types.js';
import type {
  AlertRow,
  BoundaryIdentity,
  NewRun,
  PipelineRuntime,
  RunPartRow,
  RunPatch,
  RunRow,
  RunTablePatch,
  RunTableRow,
  RunTableStatus,
  SourceFileRecord,
  StateChangeRow,
  Watermark,
} from './store.js';

export type Row = Record<string, unknown>;

/** The column each field of a run patch is stored in. */
export const RUN_COLUMNS: Readonly<Record<keyof RunPatch, string>> = {
  status: 'status',
  startedAt: 'started_at',
  finishedAt: 'finished_at',
  rowsExtracted: 'rows_extracted',
  rowsLoaded: 'rows_loaded',
  bytes: 'bytes',
  verdict: 'verdict',
  rowsExcluded: 'rows_excluded',
  notes: 'notes_json',
  stages: 'stages_json',
  checks: 'checks_json',
  errorCode: 'error_code',
  errorMessage: 'error_message',
  firstFailureAt: 'first_failure_at',
  planJson: 'plan_json',
};

/** A run patch's value as stored: the JSON fields as text, the others as they are. */
export function storedRunValue(field: keyof RunPatch, patch: RunPatch): unknown {
  if (field === 'notes' || field === 'checks') return JSON.stringify(patch[field]);
  if (field === 'stages') return patch.stages === null ? null : JSON.stringify(patch.stages);
  return patch[field];
}

/** The column each field of a run table patch is stored in. */
export const RUN_TABLE_COLUMNS: Readonly<Record<keyof RunTablePatch, string>> = {
  memberSequence: 'member_sequence',
  status: 'status',
  attempts: 'attempts',
  rowsExtracted: 'rows_extracted',
  rowsLoaded: 'rows_loaded',
  bytes: 'bytes',
  verdict: 'verdict',
  errorCode: 'error_code',
  errorMessage: 'error_message',
  retryable: 'retryable',
};

/** A run table patch's value as stored: flags as 0/1. */
export function storedRunTableValue(value: RunTablePatch[keyof RunTablePatch]): unknown {
  return typeof value === 'boolean' ? (value ? 1 : 0) : value;
}

/** The columns a new run is inserted with, in the order of `storedNewRun`'s values. */
export const NEW_RUN_COLUMNS =
  'id, pipeline, sequence, attempt, status, trigger, kind, backfill_json, requested_by, created_at, first_failure_at';

/** A new run's id (`<pipeline>-<sequence>-<attempt>`) and its values for NEW_RUN_COLUMNS. */
export function storedNewRun(run: NewRun, createdAt: string): { id: string; values: unknown[] } {
  const id = `${run.pipeline}-${run.sequence}-${run.attempt}`;
  const backfill = run.kind.kind === 'backfill' ? JSON.stringify(run.kind.range) : null;
  return {
    id,
    values: [
      id,
      run.pipeline,
      run.sequence,
      run.attempt,
      run.status,
      run.trigger,
      run.kind.kind,
      backfill,
      run.requestedBy ?? null,
      createdAt,
      run.firstFailureAt ?? null,
    ],
  };
}

/** A stored kind: a known one as it is; an unknown one (never written by this version) reads as normal. */
function storedKind(value: unknown): RunKind {
  return (RUN_KINDS as readonly unknown[]).includes(value) ? (value as RunKind) : 'normal';
}

export function parseJson<T>(value: unknown, fallback: T): T {
  return value === null || value === undefined ? fallback : (JSON.parse(value as string) as T);
}

export function toRun(row: Row): RunRow {
  return {
    id: row.id as string,
    pipeline: row.pipeline as string,
    sequence: row.sequence as number,
    attempt: row.attempt as number,
    status: row.status as RunStatus,
    trigger: row.trigger as RunRow['trigger'],
    kind: storedKind(row.kind),
    backfill: parseJson<BackfillRange | null>(row.backfill_json, null),
    requestedBy: (row.requested_by as string | null | undefined) ?? null,
    createdAt: row.created_at as string,
    startedAt: (row.started_at as string | null) ?? null,
    finishedAt: (row.finished_at as string | null) ?? null,
    rowsExtracted: row.rows_extracted as number,
    rowsLoaded: row.rows_loaded as number,
    bytes: row.bytes as number,
    verdict: (row.verdict as RunRow['verdict']) ?? null,
    rowsExcluded: (row.rows_excluded as number | null) ?? 0,
    notes: parseJson<string[]>(row.notes_json, []),
    stages: parseJson<Record<string, number> | null>(row.stages_json, null),
    checks: parseJson<CheckResult[]>(row.checks_json, []),
    errorCode: storedErrorCode(row.error_code),
    errorMessage: (row.error_message as string | null) ?? null,
    firstFailureAt: (row.first_failure_at as string | null) ?? null,
    planJson: (row.plan_json as string | null) ?? null,
  };
}

/** Rows of runs ordered by run (pipeline and sequence together), grouped into logical runs. */
export function groupAttempts(rows: readonly RunRow[]): RunRow[][] {
  const runs: RunRow[][] = [];
  for (const row of rows) {
    const current = runs.at(-1);
    const last = current?.at(-1);
    if (current !== undefined && last?.pipeline === row.pipeline && last.sequence === row.sequence)
      current.push(row);
    else runs.push([row]);
  }
  return runs;
}

export function toPart(row: Row): RunPartRow {
  return {
    runId: row.run_id as string,
    partId: row.part_id as string,
    shard: (row.shard as string | null) ?? null,
    chunk: (row.chunk as number | null) ?? null,
    status: row.status as RunPartRow['status'],
    rows: row.rows as number,
    bytes: row.bytes as number,
    estimatedRows: (row.estimated_rows as number | null) ?? null,
    errorCode: storedErrorCode(row.error_code),
    errorMessage: (row.error_message as string | null) ?? null,
    startedAt: (row.started_at as string | null) ?? null,
    finishedAt: (row.finished_at as string | null) ?? null,
  };
}

export function toAlert(row: Row): AlertRow {
  return {
    id: row.id as number,
    pipeline: row.pipeline as string,
    kind: row.kind as AlertRow['kind'],
    runId: (row.run_id as string | null) ?? null,
    createdAt: row.created_at as string,
    status: row.status as AlertRow['status'],
    recipients: row.recipients as string,
    subject: row.subject as string,
    detail: (row.detail as string | null) ?? null,
  };
}

/** A pipeline's row (undefined: a pipeline the store has not seen, with every default). */
export function toRuntime(row: Row | undefined): PipelineRuntime {
  return {
    paused: row?.paused === 1,
    pausedAt: (row?.paused_at as string | null | undefined) ?? null,
    lastFireAt: (row?.last_fire_at as string | null | undefined) ?? null,
    lastSkipReason: (row?.last_skip_reason as string | null | undefined) ?? null,
    lastSkipAt: (row?.last_skip_at as string | null | undefined) ?? null,
    committedSequence: (row?.committed_sequence as number | undefined) ?? 0,
  };
}

export function toWatermark(row: Row): Watermark {
  return {
    shard: row.shard as string,
    value: row.value as string,
    boundary: JSON.parse(row.boundary_json as string) as string[],
    identity: parseJson<BoundaryIdentity | null>(row.identity_json, null),
    sequence: row.sequence as number,
    updatedAt: row.updated_at as string,
  };
}

/** A watermark's boundary and identity as stored (JSON text). */
export function storedWatermark(watermark: Omit<Watermark, 'updatedAt' | 'sequence'>): {
  boundary: string;
  identity: string | null;
} {
  return {
    boundary: JSON.stringify(watermark.boundary),
    identity: watermark.identity === null ? null : JSON.stringify(watermark.identity),
  };
}

export function toStateChange(row: Row): StateChangeRow {
  return {
    at: row.at as string,
    action: row.action as string,
    detail: row.detail as string,
    actor: (row.actor as string | null) ?? null,
    shards: parseJson<StateChangeRow['shards']>(row.shards_json, []),
  };
}

export function toSourceFile(row: Row): SourceFileRecord {
  return {
    key: row.key as string,
    size: row.size as number,
    version: row.version as string,
    modifiedAt: row.modified_at as string,
    status: row.status as SourceFileRecord['status'],
    sequence: row.sequence as number,
    runId: row.run_id as string,
    reason: (row.reason as string | null) ?? null,
    recordedAt: row.recorded_at as string,
  };
}

export function toRunTable(row: Row): RunTableRow {
  const code = row.error_code as string | null;
  return {
    pipeline: row.pipeline as string,
    sequence: row.sequence as number,
    table: row.table_name as string,
    member: row.member as string,
    memberSequence: (row.member_sequence as number | null) ?? null,
    status: row.status as RunTableStatus,
    attempts: row.attempts as number,
    rowsExtracted: row.rows_extracted as number,
    rowsLoaded: row.rows_loaded as number,
    bytes: row.bytes as number,
    verdict: (row.verdict as RunRow['verdict']) ?? null,
    errorCode: code === null ? null : storedErrorCode(code),
    errorMessage: (row.error_message as string | null) ?? null,
    retryable: row.retryable === 1,
    updatedAt: row.updated_at as string,
  };
}
