/**
 * What the supervisor asks the fleet before it acts, so several daemons sharing one PostgreSQL
 * state store behave as one (docs/fleet.md). A host alone (SQLite) is granted everything; the
 * PostgreSQL coordinator answers from rows every host sees, with lease expiry measured by the
 * database server's clock so that hosts' clocks need not agree.
 */

/** A host of the fleet as `etlctl hosts` lists it. */
export interface FleetHost {
  readonly host: string;
  readonly pid: number;
  readonly version: string;
  readonly startedAt: string;
  readonly heartbeatAt: string;
  /** `alive`: a heartbeat within the lease time; `lost`: none since; `stopped`: it shut down. */
  readonly health: 'alive' | 'lost' | 'stopped';
  /** Pipelines whose run lease this host holds. */
  readonly running: readonly string[];
}

/** The answer to a run-lease request. */
export type LeaseAnswer =
  | { readonly granted: true }
  | { readonly granted: false; readonly holder: string; readonly expiresAt: string };

export interface FleetCoordinator {
  /** This host's name in the fleet. */
  readonly host: string;
  /** Whether several hosts may share the store (false: a host alone, everything is granted). */
  readonly shared: boolean;
  /**
   * Claims one schedule fire (`fireKey`: the fire time, or `catchup:<time>` for a start-up
   * catch-up) for this host: true for exactly one host of the fleet, however many ask.
   */
  claimFire(pipeline: string, fireKey: string): boolean;
  /** Records on this host's claim what it did with the fire (`run <id>`, `queued`, `skipped: …`). */
  recordFireOutcome(pipeline: string, fireKey: string, outcome: string): void;
  /** Takes the pipeline's run lease (one run of a pipeline at a time across the fleet). */
  acquireRunLease(pipeline: string, runId: string): LeaseAnswer;
  /** Gives the lease back when the run sequence has ended. */
  releaseRunLease(pipeline: string): void;
  /** Who holds the pipeline's run lease now (null: nobody, or an expired lease). */
  leaseHolder(pipeline: string): string | null;
  /** Records this host alive and extends every lease (and fleet source slot) it holds; every lease/3. */
  heartbeat(): void;
  hosts(): FleetHost[];
  /** Marks this host stopped and drops its leases (a clean shutdown). */
  leave(): void;
}
