/**
 * A FleetCoordinator double for tests of the control socket's fleet answers: the hosts and the
 * lease holders are what the test sets, and every call is recorded (to check which pipelines the
 * daemon asked about). Claims and leases are granted: the tests using it do not schedule runs.
 */
import type { FleetCoordinator, FleetHost } from '../../daemon/fleet/coordinator.js';

export interface FleetDouble extends FleetCoordinator {
  /** Pipelines whose lease holder was asked, in order. */
  readonly asked: string[];
}

export function fleetDouble(options: {
  readonly host: string;
  readonly shared: boolean;
  readonly hosts?: readonly FleetHost[];
  /** The lease holder of each pipeline (absent: nobody). */
  readonly holders?: Readonly<Record<string, string>>;
}): FleetDouble {
  const asked: string[] = [];
  return {
    host: options.host,
    shared: options.shared,
    asked,
    claimFire: () => true,
    recordFireOutcome: () => undefined,
    acquireRunLease: () => ({ granted: true }),
    releaseRunLease: () => undefined,
    leaseHolder: (pipeline) => {
      asked.push(pipeline);
      return options.holders?.[pipeline] ?? null;
    },
    heartbeat: () => undefined,
    hosts: () => [...(options.hosts ?? [])],
    leave: () => undefined,
  };
}

/** A host of the fleet, `alive` and running nothing unless `overrides` say otherwise. */
export function fleetHost(host: string, overrides: Partial<FleetHost> = {}): FleetHost {
  return {
    host,
    pid: 1000,
    version: '0.1.0-test',
    startedAt: '2026-03-04T00:00:00.000Z',
    heartbeatAt: '2026-03-04T12:00:00.000Z',
    health: 'alive',
    running: [],
    ...overrides,
  };
}
