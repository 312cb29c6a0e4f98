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
 * - Fleet mode: the step runs on a host drawn by fleet-hosts.ts, and a run it leaves unfinished is
 *   taken over by another host within the same step (so the model's candidates still apply, as
 *   for a restart). The taker is the long-running daemon: `etld --once` cannot take a run over,
 *   whether it waits for the dead host's lease or retries. Before the lease expires it refuses
 *   with "running on host X"; after, its start-up recovery continues the dead host's run and then
 *   its own trigger refuses ("is waiting to retry"), exactly as `--once` does after a crash on one
 *   host, so a retry loop would only end in that refusal (daemon/scheduler/supervisor.ts: start(),
 *   then trigger()'s busy check). The long-running daemon takes the run over by itself: at
 *   start-up when the lease has already expired, else from its heartbeat's takeover check once it
 *   does. The fleet stream decides whether the harness first waits for the lease to expire
 *   (reading `fleet_run_leases`), so both product paths are attacked; the record says which one
 *   applied.
 * - Fleet mode, a paused host: the fleet stream turns half of the kills (timed, or at a commit
 *   failpoint, where the process stops itself) into SIGSTOP. The
 *   takeover then runs as after a kill, and only once it is over is the paused process woken and
 *   waited for: its late attempt reaches its commit after the run was settled elsewhere. The
 *   step's outcome is the takeover's; whatever the late attempt wrote shows in the comparison
 *   with the model. When no takeover was needed (paused before its run began), the woken
 *   process's own run is the step's.
 */
import { needsRecovery, newestRun, recoverWithDaemon, type Recovery } from './daemon-recovery.js';
import { runDaemonOnce, type DaemonRunResult } from './daemon-run.js';
import { armFault } from './fault-arm.js';
import { chooseFault, type FaultChoice } from './fault-plan.js';
import { drawHosts, FLEET_LEASE_SECONDS } from './fleet-hosts.js';
import { runLease, waitForLeaseExpiry } from './fleet-state.js';
import type { FaultProxy } from '../helpers/fault-proxy.js';
import type { ModelState, RunOutcome } from './model.js';
import type { NormalRow } from '../conformance/normalise.js';
import type { PipelineHome } from './pipeline-home.js';
import { endLateTxn, type LateTxn, type PipelineSource } from './pipeline-source.js';
import type { Prng } from './prng.js';
import { readSnapshot } from './source-reader.js';
import { modelColumns, type ColumnDef } from './source-schema.js';
import { stateEnv, type StateLocation } from './state-location.js';
import { applyWorkload, type WorkloadSummary } from './workload.js';

export interface PipelineRuntime {
  readonly source: PipelineSource;
  /** The home outside fleet mode; host-a's in fleet mode (the destination is the same for all). */
  readonly home: PipelineHome;
  /** Fleet mode: every host's home, and the stream hosts are drawn from (fleet-hosts.ts). */
  readonly fleet: { readonly homes: readonly PipelineHome[]; readonly prng: Prng } | null;
  readonly state: StateLocation;
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
  /** Fleet mode: the host the step ran on (null outside fleet mode). */
  readonly host: string | null;
  /** Fleet mode: the host that took the unfinished run over, and the lease it found. */
  readonly takeover: Takeover | null;
  /** Fleet mode: the step's host was paused (SIGSTOP) instead of killed, and woken afterwards. */
  readonly paused: Paused | null;
  readonly daemonVerdict: string | null;
}

export interface Paused {
  /** How the woken process ended: its exit code, a signal, or `hung`. */
  readonly wokenExit: number | string;
}

export interface Takeover {
  readonly host: string;
  /**
   * The dead host's lease was still live when the taker started: it took the run over from its
   * heartbeat's takeover check once the lease expired, not at its start-up.
   */
  readonly leaseLive: boolean;
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
  const hosts = rt.fleet === null ? null : drawHosts(rt.fleet.prng, rt.fleet.homes);
  const home = hosts?.run ?? rt.home;
  const startedMs = Date.now();
  const snapshot = await readSnapshot(rt.source);
  const columns = modelColumns(rt.source.spec, rt.source.added);
  const armed = await armFault(fault, {
    home,
    state: rt.state,
    sourceProxy: rt.sourceProxy,
    destProxy: rt.destProxy,
    pauseInsteadOfKill: hosts?.pauseInsteadOfKill === true,
  });
  let run: DaemonRunResult | undefined;
  let fired: boolean;
  try {
    run = await runDaemonOnce({
      home: armed.home ?? home.dir,
      config: home.config,
      pipeline: rt.source.spec.name,
      env: { ...stateEnv(rt.state), ...armed.env },
      killAfterMs: armed.killAfterMs,
      pauseInsteadOfKill: hosts?.pauseInsteadOfKill === true,
      timeoutMs: RUN_TIMEOUT_MS,
      logFile: home.logFile,
      onSpawn: () => armed.onSpawn(),
    });
  } finally {
    // The fault is undone even when the spawn itself failed.
    fired = await armed.finish(run ?? NO_RUN);
  }
  const pipeline = rt.source.spec.name;
  const state = rt.state;
  let recovery: Recovery | null = null;
  let takeover: Takeover | null = null;
  if (await needsRecovery(state, pipeline)) {
    const taker = hosts?.takeover ?? home;
    if (hosts !== null && state.kind === 'postgres') {
      // The lease lives FLEET_LEASE_SECONDS after the dead host's last heartbeat; a lease not
      // expired after twice that is left to the taker, whose report then says it was live.
      if (hosts.waitForLease)
        await waitForLeaseExpiry(state.target, state.database, pipeline, 2 * FLEET_LEASE_SECONDS * 1000);
      const lease = await runLease(state.target, state.database, pipeline);
      takeover = { host: taker.host ?? '', leaseLive: lease?.live === true };
    }
    const { dir, config, logFile } = taker;
    recovery = await recoverWithDaemon({ home: dir, config, state, pipeline, logFile });
  }
  let paused: Paused | null = null;
  if (run.wake !== undefined) {
    const woken = await run.wake();
    paused = { wokenExit: woken.hung ? 'hung' : (woken.exitCode ?? woken.signal ?? 'unknown') };
    // Without a takeover the woken process ran the step's run itself.
    if (recovery === null) run = woken;
  }
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
    host: home.host,
    takeover,
    paused,
    daemonVerdict: outcome === 'succeeded' ? ((await newestRun(state, pipeline))?.verdict ?? null) : null,
  };
}
