/**
 * Bringing the state store in line with a destination that already holds a sequence (a crash
 * between destination commit and state update, or a retry of a committed run): the watermarks
 * that the committing attempt planned are in its run row's `planJson`, written before it called
 * the destination. Attempts of one sequence run one after another, so the newest attempt with
 * planned watermarks is the one that committed.
 */
import { EtlError } from '../../shared/errors.js';
import type { PipelineConfig } from '../../shared/config/pipeline-schema.js';
import type { StateStore } from '../state/store.js';
import { parsePlanRecord, usesWatermarks, type PlanRecord } from './watermarks.js';

/** How far back the run history is searched for the committing attempt. */
const HISTORY_LIMIT = 500;

export function findCommittedPlan(store: StateStore, pipeline: string, sequence: number): PlanRecord | null {
  const runs = store.listRuns(pipeline, HISTORY_LIMIT).filter((r) => r.sequence === sequence);
  runs.sort((a, b) => b.attempt - a.attempt || b.createdAt.localeCompare(a.createdAt));
  for (const run of runs) {
    const plan = parsePlanRecord(run.planJson);
    if (plan !== null && plan.sequence === sequence && plan.watermarks !== null) return plan;
  }
  return null;
}

/** Commits the planned watermarks of `sequence` (or only the sequence, for modes without any). */
export function commitPlannedWatermarks(store: StateStore, config: PipelineConfig, sequence: number, plan: PlanRecord | null): void {
  if (store.getRuntime(config.name).committedSequence >= sequence) return;
  if (!usesWatermarks(config)) {
    store.setCommittedSequence(config.name, sequence);
    return;
  }
  if (plan === null || plan.watermarks === null) {
    throw new EtlError(
      'STATE_STORE',
      `pipeline ${config.name}: the destination holds sequence ${sequence} but no run of that sequence recorded its watermarks; ` +
        'the watermark cannot be advanced safely (inspect the destination and the run history)',
      { retryable: false },
    );
  }
  store.commitWatermarks(config.name, sequence, plan.watermarks);
}
