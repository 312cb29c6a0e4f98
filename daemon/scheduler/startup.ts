/**
 * What the supervisor does once at start-up, before arming timers: rows the previous daemon left
 * `running`/`queued` become `interrupted`, and fire times that passed while it was
 * down are settled by the pipeline's `misfire` rule — one catch-up run or none, never a burst.
 */
import type { Schedule } from '../../shared/config/schedule.js';
import type { EventData } from '../../shared/protocol.js';
import type { Logger } from '../logging/logger.js';
import { runIdOf } from '../../shared/run-ids.js';
import type { RunRow, StateStore } from '../state/store.js';
import { fireTimesBetween } from './fire-times.js';

/** Downtime spanning more fire times than this is reported as "at least" this many. */
const MISFIRE_COUNT_LIMIT = 1000;

/**
 * `adopt` says whether this host may touch the row: in a fleet, only when it took the pipeline's
 * run lease (a live host holding it is still running that run) and the row is still unfinished.
 */
export function markInterruptedRuns(
  store: StateStore,
  now: Date,
  logger: Logger,
  emit: (data: EventData<'run.state'>) => void,
  adopt: (row: RunRow) => boolean = () => true,
): void {
  for (const row of store.runsWithStatus(['running', 'queued'])) {
    if (adopt(row)) markInterrupted(store, row, now, logger, emit);
  }
}

/** Marks one run row left `running`/`queued` by a daemon that is gone `interrupted`. */
export function markInterrupted(
  store: StateStore,
  row: RunRow,
  now: Date,
  logger: Logger,
  emit: (data: EventData<'run.state'>) => void,
): RunRow {
  const updated = store.updateRun(row.id, {
    status: 'interrupted',
    finishedAt: now.toISOString(),
    errorCode: 'INTERRUPTED',
    errorMessage: `the daemon stopped while this run was ${row.status} (crash or kill); it is retried under error_handling`,
    firstFailureAt: row.firstFailureAt ?? now.toISOString(),
  });
  logger.warning(`run ${row.id} was ${row.status} when the daemon stopped: marked interrupted`, {
    pipeline: row.pipeline,
    runId: row.id,
  });
  emit({
    run_id: runIdOf(updated.pipeline, updated.sequence),
    attempt_id: updated.id,
    pipeline: updated.pipeline,
    status: updated.status,
    attempt: updated.attempt,
    at: now.toISOString(),
    rows_loaded: updated.rowsLoaded,
    error: { code: 'INTERRUPTED', message: updated.errorMessage ?? '' },
  });
  return updated;
}

export interface MisfireInput {
  readonly name: string;
  readonly schedule: Schedule;
  readonly zone: string;
  readonly misfire: 'run_once' | 'skip';
  readonly now: Date;
  /** A run continued by start-up recovery already stands in for the catch-up. */
  readonly recoveringRunId: string | null;
}

/** A catch-up run, named by the last fire time it stands in for (a fleet claims it once). */
export type MisfireAction = 'none' | { readonly catchup: string };

/** Records the decision in the store (fire mark, skip reason) and says whether to run once now. */
export function settleMisfires(store: StateStore, logger: Logger, input: MisfireInput): MisfireAction {
  const { name, now } = input;
  if (input.schedule.kind === 'manual') return 'none';
  const runtime = store.getRuntime(name);
  const nowIso = now.toISOString();
  if (runtime.lastFireAt === null) {
    // Baseline, so a downtime before the first fire is recognised on the next start-up.
    store.markFire(name, nowIso);
    return 'none';
  }
  const missed = fireTimesBetween(
    input.schedule,
    input.zone,
    new Date(runtime.lastFireAt),
    now,
    MISFIRE_COUNT_LIMIT,
  );
  const last = missed.at(-1);
  if (last === undefined) return 'none';
  store.markFire(name, nowIso);
  const count = `${missed.length >= MISFIRE_COUNT_LIMIT ? 'at least ' : ''}${missed.length} fire time(s) (last ${last.toISOString()})`;
  if (runtime.paused) {
    store.markSkip(name, `paused: ${count} passed while the daemon was down`, nowIso);
    return 'none';
  }
  if (input.misfire === 'skip') {
    store.markSkip(name, `misfire skipped: daemon down over ${count}; misfire: skip`, nowIso);
    logger.notice(`daemon was down over ${count}: no catch-up run (misfire: skip)`, { pipeline: name });
    return 'none';
  }
  if (input.recoveringRunId !== null) {
    store.markSkip(
      name,
      `daemon down over ${count}; no separate catch-up: interrupted run ${input.recoveringRunId} is being retried`,
      nowIso,
    );
    return 'none';
  }
  store.markSkip(name, `daemon down over ${count}; one catch-up run at start-up (misfire: run_once)`, nowIso);
  logger.notice(`daemon was down over ${count}: one catch-up run`, { pipeline: name });
  return { catchup: last.toISOString() };
}
