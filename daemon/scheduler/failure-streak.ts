/**
 * What a failure alert says about the failure it reports: since when the pipeline has been failing
 * (the first failure of the current streak, across runs, not the time of this attempt or of this
 * run's first attempt), and whether anything will run it again by itself.
 */
import { parseSchedule } from '../../shared/config/schedule.js';
import type { NextRun } from '../alerts/alert-messages.js';
import { nextFireTime } from './fire-times.js';
import type { StateStore } from '../state/store.js';

/**
 * The first failure since the pipeline's last success: the earliest `firstFailureAt` of the runs
 * begun after it (every attempt row of a run carries its run's first failure), or a failed row's
 * end when an older row has none. Null when the store knows of no failure (the caller's own time
 * then stands in).
 */
export function failureStreakStart(
  store: Pick<StateStore, 'lastSuccess' | 'runsSince'>,
  pipeline: string,
): string | null {
  const since = store.lastSuccess(pipeline)?.finishedAt ?? new Date(0).toISOString();
  let earliest: number | null = null;
  for (const row of store.runsSince(pipeline, since)) {
    if (row.status === 'succeeded') continue;
    const at = row.firstFailureAt ?? (row.status === 'failed' ? row.finishedAt : null);
    const ms = at === null ? Number.NaN : Date.parse(at);
    if (!Number.isNaN(ms) && (earliest === null || ms < earliest)) earliest = ms;
  }
  return earliest === null ? null : new Date(earliest).toISOString();
}

/**
 * What starts the pipeline again after `now`: its next fire time; nothing for a pipeline without a
 * schedule (no `schedule:`, or `schedule: manual`) or whose one-shot `at` time has passed.
 */
export function nextRunAfter(schedule: string | undefined, zone: string, now: Date): NextRun | undefined {
  const parsed = parseSchedule(schedule);
  // An invalid schedule never reaches a run (the file is refused); say nothing rather than guess.
  if (!parsed.ok) return undefined;
  if (parsed.schedule.kind === 'manual') return { kind: 'manual' };
  const next = nextFireTime(parsed.schedule, zone, now);
  return next === null
    ? { kind: 'ended', schedule: parsed.schedule.text }
    : { kind: 'schedule', at: next.toISOString() };
}
