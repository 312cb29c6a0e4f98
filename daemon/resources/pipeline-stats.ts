/**
 * Error statistics of one pipeline for `status`, `etlctl info` and the console.
 *
 * A "run" here is one run sequence, judged by its last attempt: a sequence that failed twice and
 * then succeeded on retry is one successful run (its failed attempts show in history, and the
 * newest error in `last_error`, but not in `failures`). Only sequences that ended `succeeded` or `failed` count; cancelled (an operator's
 * decision), interrupted (awaiting recovery) and unfinished ones are left out of the rates.
 * Windows are by the time the run finished.
 */
import type { PipelineStats } from '../../shared/protocol.js';
import type { RunRow, StateStore } from '../state/store.js';

export type StatsStore = Pick<StateStore, 'runsSince' | 'lastSuccess'>;

const DAY_MS = 86_400_000;

function endMs(run: RunRow): number {
  return Date.parse(run.finishedAt ?? run.startedAt ?? run.createdAt);
}

function rate(runs: number, failures: number): number | null {
  return runs === 0 ? null : (runs - failures) / runs;
}

export function pipelineStats(store: StatsStore, pipeline: string, now: Date): PipelineStats {
  const nowMs = now.getTime();
  const rows = store.runsSince(pipeline, new Date(nowMs - 7 * DAY_MS).toISOString());

  const finalBySequence = new Map<number, RunRow>();
  for (const row of rows) {
    const seen = finalBySequence.get(row.sequence);
    if (!seen || row.attempt > seen.attempt) finalBySequence.set(row.sequence, row);
  }
  let runs24h = 0;
  let failures24h = 0;
  let runs7d = 0;
  let failures7d = 0;
  let durationSum = 0;
  let durationCount = 0;
  for (const run of finalBySequence.values()) {
    if (run.status !== 'succeeded' && run.status !== 'failed') continue;
    const failed = run.status === 'failed';
    runs7d++;
    if (failed) failures7d++;
    if (nowMs - endMs(run) <= DAY_MS) {
      runs24h++;
      if (failed) failures24h++;
    }
    if (!failed && run.startedAt && run.finishedAt) {
      durationSum += (Date.parse(run.finishedAt) - Date.parse(run.startedAt)) / 1000;
      durationCount++;
    }
  }

  let lastError: RunRow | undefined;
  for (const row of rows) {
    if (row.errorCode !== null && (!lastError || endMs(row) > endMs(lastError))) lastError = row;
  }
  const lastSuccess = store.lastSuccess(pipeline);

  return {
    runs_24h: runs24h,
    failures_24h: failures24h,
    success_rate_24h: rate(runs24h, failures24h),
    runs_7d: runs7d,
    failures_7d: failures7d,
    success_rate_7d: rate(runs7d, failures7d),
    mean_duration_s: durationCount === 0 ? null : durationSum / durationCount,
    last_error: lastError
      ? { code: lastError.errorCode ?? 'INTERNAL', message: lastError.errorMessage ?? '' }
      : null,
    last_success_at: lastSuccess ? (lastSuccess.finishedAt ?? lastSuccess.createdAt) : null,
  };
}
