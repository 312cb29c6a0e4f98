/**
 * One step of one pipeline: workload, snapshot, fault, `etld --once`, undo the fault, end the late
 * transaction. Verification happens afterwards for the whole round (session.ts), because the
 * Delta read-back is one process for all tables.
 *
 * Decisions:
 * - All PRNG draws of a step happen in a fixed order from the pipeline's own stream (workload,
 *   then fault), before anything timing-dependent, so a seed replays the same steps.
 * - The source snapshot is read after the workload and before the run; the step's interval (for
 *   deferral under open transactions) runs from that read to the daemon's exit.
 * - A step that leaves the newest run unfinished (a kill) ends with a daemon restart that recovers
 *   it (daemon-recovery.ts); the step's outcome is then the recovered run's.
 * - The daemon's own verdict of a successful run is read from its state store (`runs.verdict` of
 *   the newest run); `mismatch` is reported, the destination comparison is the authority.
 */
import { needsRecovery, newestRun, recoverWithDaemon, type Recovery } from './daemon-recovery.js';
import { runDaemonOnce, type DaemonRunResult } from './daemon-run.js';
import { armFault } from './fault-arm.js';
import { chooseFault, type FaultChoice } from './fault-plan.js';
import type { FaultProxy } from '../helpers/fault-proxy.js';
import type { ModelState, RunOutcome } from './model.js';
import type { NormalRow } from '../conformance/normalise.js';
import type { PipelineHome } from './pipeline-home.js';
import { endLateTxn, type LateTxn, type PipelineSource } from './pipeline-source.js';
import type { Prng } from './prng.js';
import { readSnapshot } from './source-reader.js';
import { modelColumns, type ColumnDef } from './source-schema.js';
import { applyWorkload, type WorkloadSummary } from './workload.js';

export interface PipelineRuntime {
  readonly source: PipelineSource;
  readonly home: PipelineHome;
  readonly sourceProxy: FaultProxy;
  readonly destProxy: FaultProxy | null;
  readonly prng: Prng;
  readonly model: ModelState;
  /** Set after a harness error: the pipeline takes no further steps. */
  broken: string | null;
  diffPrinted: boolean;
  /** Problem lines already counted (a persisting difference counts once). */
  readonly reported: Set<string>;
}

export interface StepRecord {
  readonly step: number;
  readonly workload: WorkloadSummary;
  readonly lateTxn: LateTxn | null;
  readonly snapshot: NormalRow[];
  readonly columns: ColumnDef[];
  readonly fault: FaultChoice | null;
  readonly faultApplied: boolean;
  readonly faultNote: string;
  readonly fired: boolean;
  readonly run: DaemonRunResult;
  readonly outcome: RunOutcome;
  readonly startedMs: number;
  readonly endedMs: number;
  /** The long-running daemon's start-up recovery of an unfinished run, when one was needed. */
  readonly recovery: Recovery | null;
  readonly daemonVerdict: string | null;
}

/** A run takes seconds; its retries at most about 20 s. */
export const RUN_TIMEOUT_MS = 60_000;

const NO_RUN: DaemonRunResult = {
  exitCode: null,
  signal: null,
  killedByHarness: false,
  hung: false,
  durationMs: 0,
  output: '',
};

function outcomeOf(run: DaemonRunResult, recovery: Recovery | null): RunOutcome {
  if (recovery !== null) {
    if (recovery.status === 'succeeded') return 'succeeded';
    return recovery.status === 'failed' || recovery.status === 'cancelled' ? 'failed' : 'killed';
  }
  if (run.hung || run.signal !== null) return 'killed';
  return run.exitCode === 0 ? 'succeeded' : 'failed';
}

export async function runPipelineStep(rt: PipelineRuntime, step: number): Promise<StepRecord> {
  const workload = await applyWorkload(rt.source, rt.prng, step);
  const lateTxn = rt.source.lateTxn;
  const fault = chooseFault(rt.prng, step);
  const startedMs = Date.now();
  const snapshot = await readSnapshot(rt.source);
  const columns = modelColumns(rt.source.spec, rt.source.added);
  const armed = await armFault(fault, {
    home: rt.home,
    sourceProxy: rt.sourceProxy,
    destProxy: rt.destProxy,
  });
  let run: DaemonRunResult | undefined;
  let fired: boolean;
  try {
    run = await runDaemonOnce({
      home: armed.home ?? rt.home.dir,
      config: rt.home.config,
      pipeline: rt.source.spec.name,
      env: armed.env,
      killAfterMs: armed.killAfterMs,
      timeoutMs: RUN_TIMEOUT_MS,
      logFile: rt.home.logFile,
      onSpawn: () => armed.onSpawn(),
    });
  } finally {
    // The fault is undone even when the spawn itself failed.
    fired = await armed.finish(run ?? NO_RUN);
  }
  const { stateDb, dir, config, logFile } = rt.home;
  const recovery = needsRecovery(stateDb, rt.source.spec.name)
    ? await recoverWithDaemon(dir, config, stateDb, rt.source.spec.name, logFile)
    : null;
  const endedMs = Date.now();
  await endLateTxn(rt.source);
  const outcome = outcomeOf(run, recovery);
  return {
    step,
    workload,
    lateTxn,
    snapshot,
    columns,
    fault,
    faultApplied: fault !== null && armed.applied,
    faultNote: armed.note,
    fired: armed.applied && fired,
    run,
    outcome,
    startedMs,
    endedMs,
    recovery,
    daemonVerdict:
      outcome === 'succeeded' ? (newestRun(stateDb, rt.source.spec.name)?.verdict ?? null) : null,
  };
}
