/**
 * The first step of every attempt, before anything is read: the destination (the record of what
 * was committed) and the state store must agree.
 *
 * - Destination ahead of the store (a crash, or a failed state write, after a destination commit;
 *   retries that ran out; a run stopped while retrying; a state store restored from a backup):
 *   the committing attempt's planned watermarks are committed to the store first. Without them the
 *   attempt fails with STATE_INCONSISTENT, and so does every later attempt until an operator
 *   settles it, because reading from the older watermark would load that batch twice.
 * - Destination behind the store (it was dropped, restored from a backup, or the path changed)
 *   in a mode that keeps watermarks: loading from the stored watermark would leave a gap, so the
 *   attempt fails with STATE_INCONSISTENT. Full loads, merges without a cursor and full refreshes
 *   read everything anyway and go ahead.
 *
 * This replaces the start-up-only reconciliation of etld 0.1, which let a new sequence pass a
 * destination that was ahead of the store and append the same batch again.
 */
import { EtlError } from '../../shared/errors.js';
import type { Destination } from '../destinations/destination.js';
import type { StateStore } from '../state/store.js';
import { commitPlannedWatermarks, findCommittedPlan, type CommitterHint } from './committed-plan.js';
import type { LoadedPipeline } from '../../shared/config/pipeline-files.js';
import type { RunOutcome } from './engine.js';
import { summarise } from './range-reader.js';
import { resumesFromState } from './watermarks.js';

export interface SettleContext {
  readonly store: StateStore;
  readonly pipeline: LoadedPipeline;
}

/** Runs a state-store write; any failure is a retryable STATE_STORE error (disk full, busy, I/O). */
export function writeState<T>(what: string, write: () => T): T {
  try {
    return write();
  } catch (error) {
    if (error instanceof EtlError && error.code === 'STATE_INCONSISTENT') throw error;
    const message = error instanceof Error ? error.message : String(error);
    throw new EtlError('STATE_STORE', `state store: ${what} failed: ${message}`, {
      cause: error,
      retryable: true,
    });
  }
}

/**
 * Brings the store in line with the destination. Returns the destination's committed sequence
 * (null: none) once they agree; throws STATE_INCONSISTENT when they cannot be made to.
 */
export async function settleWithDestination(
  context: SettleContext,
  destination: Destination,
  signal?: AbortSignal,
  options: { readonly readsEverything?: boolean } = {},
): Promise<number | null> {
  const { store, pipeline } = context;
  const config = pipeline.config;
  const committed = await destination.committedSequence(pipeline.name, signal);
  const known = writeState(
    'reading the committed sequence',
    () => store.getRuntime(pipeline.name).committedSequence,
  );
  const held = committed?.sequence ?? 0;
  if (held < known) {
    if (resumesFromState(config) && options.readsEverything !== true) {
      throw new EtlError(
        'STATE_INCONSISTENT',
        `pipeline ${pipeline.name}: ${destination.label} holds ${committed === null ? 'no commit' : `sequence ${held}`} of this pipeline, but the ` +
          `state store recorded sequence ${known} as committed there: the destination lost commits (dropped, restored from a backup, or another path). ` +
          'Runs stop here, because reading from the stored watermark would leave a gap. ' +
          `Run \`etlctl start ${pipeline.name} --full-refresh\` to load everything again, \`etlctl watermark reset ${pipeline.name}\` to read again from start_from, ` +
          `or \`etlctl watermark set ${pipeline.name} VALUE\` to continue from the cursor value the destination is complete up to`,
      );
    }
    return committed?.sequence ?? null;
  }
  if (committed !== null && committed.sequence > known) {
    const plan = findCommittedPlan(store, pipeline.name, committed.sequence, { runId: committed.runId });
    writeState(`recording sequence ${committed.sequence}`, () =>
      commitPlannedWatermarks(store, pipeline, committed.sequence, plan),
    );
  }
  return committed?.sequence ?? null;
}

/** The outcome of an attempt whose sequence the destination already holds (the store is brought in line). */
export function alreadyCommittedOutcome(
  context: SettleContext,
  sequence: number,
  committed: number,
  hint: CommitterHint,
): RunOutcome {
  const { store, pipeline } = context;
  const plan = findCommittedPlan(store, pipeline.name, committed, hint);
  writeState(`recording sequence ${committed}`, () =>
    commitPlannedWatermarks(store, pipeline, committed, plan),
  );
  return {
    rowsExtracted: 0,
    rowsLoaded: 0,
    rowsExcluded: 0,
    stages: {},
    checks: [],
    bytes: 0,
    verdict: 'already_committed',
    alreadyCommitted: true,
    watermarkFrom: plan === null ? null : summarise(plan.ranges, (r) => r.from),
    watermarkTo: plan === null ? null : summarise(plan.ranges, (r) => r.to),
    notes: [
      `sequence ${sequence} is already committed in the destination (committed: ${committed}); nothing written`,
    ],
  };
}
