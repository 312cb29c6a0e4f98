/**
 * Drives the coordinator's heartbeat every lease/3 and, after each successful one, the
 * supervisor's takeover check. Owned by compose; its timer is unref'd (a heartbeat alone never
 * keeps the process up). A failing heartbeat (state database down) never crashes the daemon: it is
 * logged once when the outage starts and once when it ends, not on every beat.
 */
import { toEtlError } from '../../shared/errors.js';
import type { Logger } from '../logging/logger.js';
import type { FleetCoordinator } from './coordinator.js';

export interface FleetHeartbeatOptions {
  readonly coordinator: FleetCoordinator;
  readonly leaseMs: number;
  readonly logger: Logger;
  /** Runs after each successful heartbeat (the takeover of runs whose host died). */
  readonly afterBeat: () => void;
  /** Told once when an outage of the state store starts and once when it ends (the alerts). */
  readonly outage?: {
    readonly started: (since: Date, message: string) => void;
    readonly ended: (since: Date, until: Date) => void;
  };
}

export class FleetHeartbeat {
  readonly #o: FleetHeartbeatOptions;
  #timer: NodeJS.Timeout | null = null;
  #failingSince: Date | null = null;

  constructor(options: FleetHeartbeatOptions) {
    this.#o = options;
  }

  start(): void {
    if (this.#timer !== null) return;
    this.#timer = setInterval(() => this.beat(), Math.max(1, Math.floor(this.#o.leaseMs / 3)));
    this.#timer.unref();
  }

  stop(): void {
    if (this.#timer !== null) clearInterval(this.#timer);
    this.#timer = null;
  }

  /** One heartbeat and, when it succeeded, one takeover check. */
  beat(): void {
    const { coordinator, logger, leaseMs } = this.#o;
    try {
      coordinator.heartbeat();
    } catch (error) {
      if (this.#failingSince === null) {
        const since = new Date();
        this.#failingSince = since;
        const message = toEtlError(error).message;
        logger.error(
          `fleet heartbeat failed: ${message}; running runs go on, but if no heartbeat succeeds within the lease time (${leaseMs} ms) this host starts no new run and other hosts may take its runs over`,
        );
        this.#o.outage?.started(since, message);
      }
      return;
    }
    if (this.#failingSince !== null) {
      const since = this.#failingSince;
      logger.notice(
        `fleet heartbeat works again (it failed since ${since.toISOString()}); this host starts runs again`,
      );
      this.#failingSince = null;
      this.#o.outage?.ended(since, new Date());
    }
    try {
      this.#o.afterBeat();
    } catch (error) {
      logger.error(`fleet takeover check failed: ${toEtlError(error).message}`);
    }
  }
}
