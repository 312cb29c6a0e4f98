/**
 * State-store rows → the wire's snake_case records (the `--json` contract). The store keeps one
 * row per attempt (`<pipeline>-<sequence>-<attempt>`); operators see runs: `<pipeline>-<sequence>`,
 * from the first attempt's start to the final status, with the attempts listed in the detail.
 */
import type { RunAttempt, RunDetail, RunPart, RunRecord } from '../../shared/protocol.js';
import { runIdOf } from '../../shared/run-ids.js';
import type { RunStatus } from '../../shared/types.js';
import { summarise } from '../engine/range-reader.js';
import { parsePlanRecord } from '../engine/watermarks.js';
import type { RunPartRow, RunRow, StateStore } from '../state/store.js';

const FINAL: ReadonlySet<RunStatus> = new Set(['succeeded', 'failed', 'cancelled', 'interrupted']);

function errorOf(row: RunRow): RunRecord['error'] {
  return row.errorCode === null ? null : { code: row.errorCode, message: row.errorMessage ?? '' };
}

/** A run from its attempts (in order, at least one). */
export function toRunRecord(attempts: readonly RunRow[]): RunRecord {
  const first = attempts[0];
  const last = attempts.at(-1);
  if (first === undefined || last === undefined) throw new Error('a run has at least one attempt');
  return {
    id: runIdOf(last.pipeline, last.sequence),
    pipeline: last.pipeline,
    status: last.status,
    trigger: first.trigger,
    attempt: last.attempt,
    sequence: last.sequence,
    started_at: first.startedAt ?? last.startedAt,
    finished_at: FINAL.has(last.status) ? last.finishedAt : null,
    rows_extracted: last.rowsExtracted,
    rows_loaded: last.rowsLoaded,
    rows_excluded: last.rowsExcluded,
    bytes: last.bytes,
    verdict: last.verdict,
    error: errorOf(last),
    first_failure_at:
      last.firstFailureAt ?? attempts.find((a) => a.firstFailureAt !== null)?.firstFailureAt ?? null,
    checks: [...last.checks],
    kind: first.kind,
    backfill: first.backfill === null ? null : { ...first.backfill },
    requested_by: first.requestedBy,
  };
}

function toRunAttempt(row: RunRow): RunAttempt {
  return {
    id: row.id,
    attempt: row.attempt,
    status: row.status,
    trigger: row.trigger,
    started_at: row.startedAt,
    finished_at: row.finishedAt,
    rows_extracted: row.rowsExtracted,
    rows_loaded: row.rowsLoaded,
    error: errorOf(row),
  };
}

export function toRunPart(row: RunPartRow): RunPart {
  const seconds =
    row.startedAt === null
      ? 0
      : ((row.finishedAt === null ? Date.now() : Date.parse(row.finishedAt)) - Date.parse(row.startedAt)) /
        1000;
  return {
    id: row.partId,
    shard: row.shard,
    chunk: row.chunk,
    status: row.status,
    rows: row.rows,
    bytes: row.bytes,
    rows_per_s: seconds > 0 ? row.rows / seconds : 0,
    estimated_rows: row.estimatedRows,
    error: row.errorCode === null ? null : { code: row.errorCode, message: row.errorMessage ?? '' },
  };
}

/** The watermark range the latest attempt planned, summarised across shards for display. */
function plannedRange(planJson: string | null): { from: string | null; to: string | null } {
  const plan = parsePlanRecord(planJson);
  if (plan === null) return { from: null, to: null };
  return { from: summarise(plan.ranges, (r) => r.from), to: summarise(plan.ranges, (r) => r.to) };
}

export function toRunDetail(attempts: readonly RunRow[], parts: readonly RunPartRow[]): RunDetail {
  const last = attempts.at(-1);
  const range = plannedRange(last?.planJson ?? null);
  return {
    ...toRunRecord(attempts),
    parts: parts.map(toRunPart),
    watermark_from: range.from,
    watermark_to: range.to,
    attempts: attempts.map(toRunAttempt),
    notes: [...(last?.notes ?? [])],
    stages: last?.stages ?? null,
  };
}

/**
 * The attempts of the run an operator names: an attempt id (`orders-12-2`) or a run id
 * (`orders-12`). An attempt id is looked up first: `a-1-2` may be attempt 2 of `a`'s run 1 or
 * run 2 of a pipeline named `a-1`, and the attempt row settles which.
 */
export function findRunAttempts(store: StateStore, id: string): RunRow[] {
  const attempt = store.getRun(id);
  if (attempt !== undefined) return store.attemptsOf(attempt.pipeline, attempt.sequence);
  const match = /^(.+)-(\d+)$/.exec(id);
  if (match === null) return [];
  return store.attemptsOf(match[1] ?? '', Number(match[2]));
}

/** The newest run of `pipeline`, if any. */
export function latestRun(store: StateStore, pipeline: string): RunRecord | null {
  const attempts = store.listRunAttempts(pipeline, 1)[0];
  return attempts === undefined ? null : toRunRecord(attempts);
}
