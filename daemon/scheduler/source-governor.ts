/**
 * The per-source governor: at most `slotsPerHost` concurrent source queries per host key
 * across all pipelines. Waiters are served first come, first served; an aborted wait leaves the
 * queue at once and rejects with CANCELLED (slot-queues.ts). Counts are exposed so `list`/`status`
 * can show a run as `waiting for source slot`.
 */
import { EtlError } from '../../shared/errors.js';
import type { SourceGovernor as SourceGovernorContract } from '../engine/engine.js';
import { SlotQueues, type HostSlotUsage } from './slot-queues.js';

export class SourceGovernor implements SourceGovernorContract {
  readonly #queues: SlotQueues<true>;

  constructor(options: { slotsPerHost: number }) {
    // Alone on its host the local cap is the only limit: every head waiter may take a slot.
    this.#queues = new SlotQueues<true>(SourceGovernor.#checked(options.slotsPerHost), {
      take: () => true,
      release: () => undefined,
    });
  }

  static #checked(slots: number): number {
    if (!Number.isInteger(slots) || slots < 1) {
      throw new EtlError('CONFIG_INVALID', `source_slots_per_host must be a whole number >= 1, got ${slots}`);
    }
    return slots;
  }

  get slotsPerHost(): number {
    return this.#queues.slotsPerHost;
  }

  /** A settings reload may change the cap; raising it admits waiters at once. */
  setSlotsPerHost(slots: number): void {
    this.#queues.setSlotsPerHost(SourceGovernor.#checked(slots));
  }

  acquire(hostKey: string, signal: AbortSignal, onWait?: () => void): Promise<() => void> {
    return this.#queues.acquire(hostKey, signal, onWait);
  }

  /** Slots in use and waiters per host, busiest first. */
  usage(): HostSlotUsage[] {
    return this.#queues.usage();
  }

  waiting(hostKey: string): number {
    return this.#queues.waiting(hostKey);
  }

  inUse(hostKey: string): number {
    return this.#queues.inUse(hostKey);
  }
}
