/**
 * Fleet mode: which host a step runs on, and which host takes over if the step leaves the run
 * unfinished.
 *
 * Decisions:
 * - Both are drawn at every step, from the pipeline's own fleet stream (forked from the seed under
 *   `fleet/<pipeline>`), whether or not a takeover is needed: whether one is needed depends on
 *   timing (did the kill land), and a draw made only then would shift every later draw. The
 *   pipeline's main stream is not touched, so a seed's world, workload and faults are the same with
 *   and without `--fleet`.
 * - The taker is always another host than the one the step ran on: a takeover by the dead host
 *   itself would be a restart, which the single-host mode already covers.
 * - Half of the takeovers wait for the dead host's lease to expire before the taker starts, so
 *   both of the product's takeover paths are taken (step-runner.ts): adoption at start-up (lease
 *   already expired) and the heartbeat's takeover check (lease still live at start-up).
 * - Half of the harness's timed kills are pauses instead (SIGSTOP, a stopped VM): the host only
 *   looks dead, its run is taken over, and it is woken once the taker is done, so its late attempt
 *   reaches its commit after the run was committed elsewhere (it must write nothing).
 */
import type { PipelineHome } from './pipeline-home.js';
import type { Prng } from './prng.js';

export const FLEET_HOSTS = ['host-a', 'host-b', 'host-c'] as const;
export const FLEET_LEASE_SECONDS = 5;

export interface StepHosts {
  readonly run: PipelineHome;
  readonly takeover: PipelineHome;
  /** The taker starts only once the dead host's run lease has expired. */
  readonly waitForLease: boolean;
  /** A timed kill of this step pauses the host (SIGSTOP) instead, woken after the takeover. */
  readonly pauseInsteadOfKill: boolean;
}

export function drawHosts(prng: Prng, homes: readonly PipelineHome[]): StepHosts {
  const run = prng.pick(homes);
  const takeover = prng.pick(homes.filter((h) => h !== run));
  return { run, takeover, waitForLease: prng.chance(0.5), pauseInsteadOfKill: prng.chance(0.5) };
}
