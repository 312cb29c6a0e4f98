/**
 * The per-source governor: at most `slotsPerHost` concurrent source queries per host key
 * across all pipelines. Waiters are served first come, first served; an aborted wait leaves the
 * queue at once and rejects with CANCELLED (slot-queues.ts). Counts are exposed so `list`/`status`
 * can show a run as `waiting for source slot`.
 */
import { EtlError } from '../../shared/errors.js';
import type { SourceGovernor as SourceGovernorContract } from '../engine/engine.js';
import { SlotQueues } from './slot-queues.js';

export class SourceGovernor extends SlotQueues<true> implements SourceGovernorContract {
  constructor(options: { slotsPerHost: number }) {
    super(SourceGovernor.#checked(options.slotsPerHost));
  }

  static #checked(slots: number): number {
    if (!Number.isInteger(slots) || slots < 1) {
      throw new EtlError('CONFIG_INVALID', `source_slots_per_host must be a whole number >= 1, got ${slots}`);
    }
    return slots;
  }

  get slotsPerHost(): number {
    return this.cap;
  }

  /** A settings reload may change the cap; raising it admits waiters at once. */
  setSlotsPerHost(slots: number): void {
    this.setCap(SourceGovernor.#checked(slots));
  }

  /** Alone on its host the local cap is the only limit: every head waiter may take a slot. */
  protected take(): true {
    return true;
  }

  protected giveBack(): void {
    // Nothing to give back beyond the local count, which SlotQueues keeps.
  }
}
