/**
 * `etlctl why <pipeline>`: when the pipeline runs next and why the last expected run did not
 * happen (paused, overlap, misfire skipped, invalid file, retries exhausted, daemon down), as
 * plain sentences built from the supervisor's view and the state store.
 */
import type { Schedule } from '../../shared/config/schedule.js';
import { isRetryableCode } from '../../shared/errors.js';
import { formatDuration } from '../../shared/config/duration.js';
import type { PipelineFreshness } from '../../shared/protocol.js';
import type { PipelineRuntime, RunRow } from '../state/store.js';
import { describeSchedule } from './pipeline-text.js';
import { formatLocal } from './zoned-time.js';

export interface WhyActiveRun {
  readonly runId: string;
  readonly phase: 'running' | 'retrying' | 'done';
  readonly attempt: number;
  readonly retryAt: Date | null;
  readonly lastError: { readonly code: string; readonly message: string } | null;
  readonly waitingForSlot: boolean;
}

export interface WhyInput {
  readonly schedule: Schedule;
  readonly zone: string;
  readonly overlap: 'skip' | 'queue';
  readonly misfire: 'run_once' | 'skip';
  readonly maxRetries: number;
  readonly nextFireAt: Date | null;
  readonly draining: boolean;
  readonly active: WhyActiveRun | null;
  readonly queued: boolean;
  readonly runtime: PipelineRuntime;
  readonly lastRun: RunRow | undefined;
  /** Null or absent: no freshness check. */
  readonly freshness?: PipelineFreshness | null;
  readonly now?: Date;
}

export function explain(input: WhyInput): string[] {
  const lines: string[] = [];
  const { schedule, zone, runtime } = input;
  const when = (date: Date): string => `${date.toISOString()} (${formatLocal(date.getTime(), zone)})`;

  if (input.draining) lines.push('the daemon is shutting down: no new runs start');
  if (runtime.paused) {
    const upcoming = input.nextFireAt
      ? `; without the pause it would run next at ${when(input.nextFireAt)}`
      : '';
    lines.push(
      `paused since ${runtime.pausedAt ?? 'an unknown time'}: schedules do not fire until \`etlctl resume\`${upcoming}`,
    );
  } else if (schedule.kind === 'manual') {
    lines.push('manual only: no schedule, runs start with `etlctl start`');
  } else if (input.nextFireAt) {
    lines.push(
      `next run at ${when(input.nextFireAt)} by schedule "${schedule.text}" (${describeSchedule(schedule, zone)})`,
    );
  } else if (schedule.kind === 'at') {
    lines.push(`one-shot schedule "${schedule.text}" has passed: no further scheduled runs`);
  } else {
    lines.push(`schedule "${schedule.text}" has no future fire time`);
  }

  const active = input.active;
  if (active && active.phase === 'running') {
    lines.push(
      active.waitingForSlot
        ? `run ${active.runId} (attempt ${active.attempt}) is waiting for source slot (source_slots_per_host reached on its source host)`
        : `run ${active.runId} is running (attempt ${active.attempt})`,
    );
  } else if (active && active.phase === 'retrying') {
    const error = active.lastError ? ` after ${active.lastError.code}: ${active.lastError.message}` : '';
    lines.push(
      `run ${active.runId} failed${error}; attempt ${active.attempt + 1} at ${active.retryAt ? when(active.retryAt) : 'soon'} (max_retries ${input.maxRetries})`,
    );
  }
  if (input.queued)
    lines.push(`one scheduled run is queued behind the active run (overlap: ${input.overlap})`);

  const last = input.lastRun;
  if (last && !(active && active.phase !== 'done')) {
    const error = last.errorCode !== null ? `: ${last.errorCode}: ${last.errorMessage ?? ''}` : '';
    switch (last.status) {
      case 'failed':
        lines.push(
          `last run ${last.id} failed after ${last.attempt} attempt(s)${error} — ${failureKind(last, input.maxRetries)}; ${
            runtime.paused
              ? 'nothing runs it again until `etlctl resume` or `etlctl start`'
              : input.nextFireAt === null || schedule.kind === 'manual'
                ? 'nothing runs it again until `etlctl start`'
                : 'waiting for the next schedule'
          }`,
        );
        break;
      case 'succeeded':
        lines.push(
          `last run ${last.id} succeeded at ${last.finishedAt ?? '?'} (${last.rowsLoaded} rows loaded)`,
        );
        break;
      case 'cancelled':
        lines.push(`last run ${last.id} was cancelled${error}`);
        break;
      case 'interrupted':
        lines.push(`last run ${last.id} was interrupted${error}`);
        break;
      case 'queued':
      case 'running':
      case 'retrying':
        lines.push(`last run ${last.id} is recorded as ${last.status}`);
        break;
    }
  }
  const freshness = input.freshness;
  if (freshness) lines.push(freshnessLine(freshness, input.now ?? new Date()));
  if (runtime.lastSkipReason !== null) {
    lines.push(
      `last expected run that did not happen (${runtime.lastSkipAt ?? '?'}): ${runtime.lastSkipReason}`,
    );
  }
  return lines;
}

function freshnessLine(f: PipelineFreshness, now: Date): string {
  const threshold = formatDuration(f.threshold_s * 1000);
  const last =
    f.last_success_at === null
      ? 'no successful run yet'
      : `last success ${formatDuration(Math.max(0, now.getTime() - Date.parse(f.last_success_at)))} ago (${f.last_success_at})`;
  return f.stale
    ? `STALE since ${f.stale_since ?? '?'}: ${last}, older than freshness ${threshold}`
    : `fresh: ${last}, within freshness ${threshold}`;
}

/** After a restart the decision itself is gone; the row's attempt and error code tell it apart. */
function failureKind(run: RunRow, maxRetries: number): string {
  if (run.attempt > maxRetries) return 'retries exhausted';
  const code = run.errorCode;
  if (code !== null && isRetryableCode(code)) {
    return 'retry_timeout reached before retries were exhausted';
  }
  return 'not retryable, failed at once';
}
