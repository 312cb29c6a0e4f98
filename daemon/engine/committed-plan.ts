/**
 * Bringing the state store in line with a destination that already holds a sequence (a crash
 * between destination commit and state update, a state-store write that failed, retries that ran
 * out, a run stopped while retrying): the watermarks the committing attempt planned are in its run
 * row's `planJson`, written durably before it called the destination.
 *
 * Which attempt committed: the destination says when it knows (`_etld_commits.run_id`, BigQuery
 * job labels). Otherwise, attempts of one sequence run one after another and each first asks the
 * destination, so the newest attempt that planned watermarks before the destination was found
 * holding the sequence is the one that committed.
 */
import { EtlError } from '../../shared/errors.js';
import type { LoadedPipeline } from '../../shared/config/pipeline-files.js';
import type { NewSourceFile, StateStore } from '../state/store.js';
import { parsePlanRecord, usesWatermarks, type PlanFileEntry, type PlanRecord } from './watermarks.js';

/** How far back the run history is searched for the committing attempt. */
const HISTORY_LIMIT = 500;

export interface CommitterHint {
  /** The attempt the destination names as the committer. */
  readonly runId?: string | null;
  /** An attempt that cannot be the committer (the current one, when the destination answered "already committed" to it). */
  readonly notRunId?: string;
}

export function findCommittedPlan(
  store: StateStore,
  pipeline: string,
  sequence: number,
  hint: CommitterHint = {},
): PlanRecord | null {
  const runs = store
    .listRuns(pipeline, HISTORY_LIMIT)
    .filter((r) => r.sequence === sequence && r.id !== hint.notRunId);
  runs.sort((a, b) => b.attempt - a.attempt || b.createdAt.localeCompare(a.createdAt));
  const named =
    hint.runId === undefined || hint.runId === null ? undefined : runs.find((r) => r.id === hint.runId);
  for (const run of named === undefined ? runs : [named]) {
    const plan = parsePlanRecord(run.planJson);
    if (plan !== null && plan.sequence === sequence && plan.watermarks !== null) return plan;
  }
  return null;
}

/**
 * Commits the planned watermarks of `sequence` (or only the sequence, for modes without any), under
 * the pipeline's state name: a multi-table pipeline's table has its own (`<pipeline>/<table>`),
 * while its config keeps the pipeline's `name`.
 */
export function commitPlannedWatermarks(
  store: StateStore,
  pipeline: Pick<LoadedPipeline, 'name' | 'config'>,
  sequence: number,
  plan: PlanRecord | null,
): void {
  const { name, config } = pipeline;
  if (store.getRuntime(name).committedSequence >= sequence) return;
  if (config.source.type === 'files') {
    commitPlannedFiles(store, name, sequence, plan);
    return;
  }
  if (!usesWatermarks(config)) {
    store.setCommittedSequence(name, sequence);
    return;
  }
  if (plan === null || plan.watermarks === null) {
    throw new EtlError(
      'STATE_INCONSISTENT',
      `pipeline ${name}: the destination holds sequence ${sequence}, but the state store has no record of the watermarks that ` +
        'commit planned (the state store was replaced or restored?). Runs stop here, because reading from the older watermark would load ' +
        `that batch a second time. Find the cursor value the destination is complete up to, then run \`etlctl watermark set ${name} VALUE\`; ` +
        `or \`etlctl watermark reset ${name}\` to read again from start_from${config.load.mode === 'incremental' ? ' (append mode: empty the destination first)' : ''}`,
    );
  }
  // A full refresh's watermarks are the whole new position: a shard it found empty keeps none.
  store.commitWatermarks(name, sequence, plan.watermarks, {
    replaceAll: plan.kind === 'full_refresh',
  });
}

/**
 * A files run's commit: the sequence and its files in the ledger, in one state-store transaction.
 * Without the committing attempt's file list the ledger cannot be brought in line: the next run
 * would load those files again.
 */
function commitPlannedFiles(
  store: StateStore,
  name: string,
  sequence: number,
  plan: PlanRecord | null,
): void {
  const files = plan?.files;
  if (files === undefined) {
    throw new EtlError(
      'STATE_INCONSISTENT',
      `pipeline ${name}: the destination holds sequence ${sequence}, but the state store has no record of the files that ` +
        'commit loaded (the state store was replaced or restored?). Runs stop here, because the next run would load those files a second time. ' +
        `Run \`etlctl start ${name} --full-refresh\` to load every file again into a replaced table`,
    );
  }
  recordPlannedFiles(store, name, sequence, files);
}

/** A files plan into the ledger under `sequence`, in the transaction that records the sequence. */
export function recordPlannedFiles(
  store: StateStore,
  pipeline: string,
  sequence: number,
  files: NonNullable<PlanRecord['files']>,
): void {
  store.commitSourceFiles(pipeline, sequence, files.runId, ledgerEntries(files), {
    replaceLoaded: files.replaceLoaded,
  });
}

/** A plan's files as ledger entries. */
export function ledgerEntries(files: NonNullable<PlanRecord['files']>): NewSourceFile[] {
  const entry = (file: PlanFileEntry, status: 'loaded' | 'quarantined'): NewSourceFile => ({
    key: file.key,
    size: file.size,
    version: file.version,
    modifiedAt: file.modifiedAt,
    status,
    reason: file.reason,
  });
  return [
    ...files.loaded.map((f) => entry(f, 'loaded')),
    ...files.quarantined.map((f) => entry(f, 'quarantined')),
  ];
}
