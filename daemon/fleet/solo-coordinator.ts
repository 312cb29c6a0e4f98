/**
 * The coordinator of a host alone (SQLite state store): nobody else can fire or run its
 * pipelines, so every claim and lease is granted and the supervisor behaves as it always did.
 */
import type { FleetCoordinator, FleetHost, LeaseAnswer } from './coordinator.js';

export interface SoloIdentity {
  readonly host: string;
  readonly pid: number;
  readonly version: string;
  readonly startedAt: string;
}

export class SoloCoordinator implements FleetCoordinator {
  readonly host: string;
  readonly shared = false;
  readonly #identity: SoloIdentity;
  readonly #leases = new Set<string>();
  readonly #now: () => Date;
  #stopped = false;
  #heartbeatAt: string;

  constructor(identity: SoloIdentity, now: () => Date = () => new Date()) {
    this.host = identity.host;
    this.#identity = identity;
    this.#now = now;
    this.#heartbeatAt = now().toISOString();
  }

  claimFire(): boolean {
    return true;
  }

  /** A host alone has the schedule's record in its own log and `etlctl why`; no claims are kept. */
  recordFireOutcome(): void {
    return;
  }

  acquireRunLease(pipeline: string): LeaseAnswer {
    this.#leases.add(pipeline);
    return { granted: true };
  }

  releaseRunLease(pipeline: string): void {
    this.#leases.delete(pipeline);
  }

  leaseHolder(pipeline: string): string | null {
    return this.#leases.has(pipeline) ? this.host : null;
  }

  heartbeat(): void {
    this.#heartbeatAt = this.#now().toISOString();
  }

  hosts(): FleetHost[] {
    const { host, pid, version, startedAt } = this.#identity;
    return [
      {
        host,
        pid,
        version,
        startedAt,
        heartbeatAt: this.#heartbeatAt,
        health: this.#stopped ? 'stopped' : 'alive',
        running: [...this.#leases].sort(),
      },
    ];
  }

  leave(): void {
    this.#stopped = true;
    this.#leases.clear();
  }
}
