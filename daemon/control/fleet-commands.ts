/**
 * The control socket's side of the fleet: `hosts`, and the `host` of each pipeline that `list`
 * and `status` report, both answered from the fleet coordinator (daemon/fleet/coordinator.ts).
 */
import type { FleetHosts } from '../../shared/protocol-hosts.js';
import type { PipelineSummary } from '../../shared/protocol.js';
import type { PipelineState } from '../../shared/types.js';
import type { FleetCoordinator } from '../fleet/coordinator.js';

/** Every host the coordinator knows, in the order it lists them. */
export function fleetHosts(fleet: FleetCoordinator): FleetHosts {
  return {
    fleet: fleet.shared,
    this_host: fleet.host,
    hosts: fleet.hosts().map((h) => ({
      host: h.host,
      pid: h.pid,
      version: h.version,
      started_at: h.startedAt,
      heartbeat_at: h.heartbeatAt,
      health: h.health,
      running: [...h.running],
    })),
  };
}

/**
 * A run lease is held from the run's first attempt to its final status, retries included, so a
 * `retrying` pipeline still has a host.
 */
const LEASED_STATES: ReadonlySet<PipelineState> = new Set(['running', 'retrying']);

/**
 * The summaries with the host running each pipeline's current run. A shared coordinator is asked
 * only for pipelines whose state says a run is under way: each answer is a query of the shared
 * store, and an idle pipeline has no host to show. A host alone runs everything itself: its
 * pipelines with an active run are its own, no store asked.
 */
export function withRunHosts(
  summaries: readonly PipelineSummary[],
  fleet: FleetCoordinator,
  runsHere: (pipeline: string) => boolean,
): PipelineSummary[] {
  return summaries.map((summary) => {
    if (!fleet.shared) return { ...summary, host: runsHere(summary.name) ? fleet.host : null };
    return { ...summary, host: LEASED_STATES.has(summary.state) ? fleet.leaseHolder(summary.name) : null };
  });
}
