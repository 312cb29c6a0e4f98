/**
 * The source governor of a fleet: `source_slots_per_host` concurrent queries per source host key
 * across every etld host sharing the PostgreSQL store. Locally it behaves as SourceGovernor does
 * (slot-queues.ts: first come, first served per host key; an aborted wait leaves the queue at once
 * and rejects CANCELLED), and the waiter at the head of a queue is granted only when the fleet's
 * table grants it a slot. When the fleet is full the head is retried every RETRY_MS and whenever a local slot
 * is released (slots released on other hosts are only seen by the retry: there is no notification
 * between hosts). Order between hosts is therefore not first come, first served; within a host it is.
 *
 * A store that does not answer when a slot is asked for fails the waiting acquires of that host
 * key with its STATE_STORE error (retryable) instead of keeping them waiting: the attempt fails
 * and its pipeline's `error_handling` retries it, as every other state call of a run does during
 * an outage, where an endless wait would show a run "waiting for a source slot" that no slot
 * will ever end.
 *
 * `usage()`, `inUse()` and `waiting()` are this host's figures (slots it holds, its waiters):
 * reading the fleet's would cost a store round trip on every `list` and metrics scrape.
 */
import { toEtlError, type EtlError } from '../../shared/errors.js';
import type { SourceGovernor as SourceGovernorContract } from '../engine/engine.js';
import { SlotQueues } from '../scheduler/slot-queues.js';
import type { FleetSourceSlots } from './fleet-source-slots.js';

/** How often a full fleet is asked again for a slot. */
const RETRY_MS = 500;

export interface FleetSourceGovernorOptions {
  readonly slots: Pick<FleetSourceSlots, 'take' | 'release'>;
  readonly slotsPerHost: number;
  /** A slot that could not be given back (it expires after the lease time). */
  readonly onReleaseError?: (error: EtlError) => void;
  readonly retryMs?: number;
}

/** A grant is the id of the fleet's slot row. */
export class FleetSourceGovernor extends SlotQueues<string> implements SourceGovernorContract {
  readonly #o: FleetSourceGovernorOptions;
  /** The pending retry of each host key whose head waiter the fleet refused. */
  readonly #retries = new Map<string, NodeJS.Timeout>();

  constructor(options: FleetSourceGovernorOptions) {
    super(options.slotsPerHost);
    this.#o = options;
  }

  /** May the head waiter take a fleet slot? A full fleet is asked again later. */
  protected take(hostKey: string): string | null {
    let slotId: string | null;
    try {
      slotId = this.#o.slots.take(hostKey, this.#o.slotsPerHost);
    } catch (error) {
      throw toEtlError(error, 'STATE_STORE');
    }
    if (slotId === null) this.#retryLater(hostKey);
    return slotId;
  }

  protected giveBack(slotId: string): void {
    try {
      this.#o.slots.release(slotId);
    } catch (error) {
      // The engine's release runs in finally blocks: it must not throw. The row is no longer
      // renewed, so the fleet gets the slot back after the lease time.
      this.#o.onReleaseError?.(toEtlError(error, 'STATE_STORE'));
    }
  }

  /**
   * One pending retry per host key, armed only when the fleet refused: while this host's own cap
   * is what holds a waiter back, its next local release admits it.
   */
  #retryLater(hostKey: string): void {
    if (this.#retries.has(hostKey)) return;
    const retry = setTimeout(() => {
      this.#retries.delete(hostKey);
      this.admit(hostKey);
    }, this.#o.retryMs ?? RETRY_MS);
    // Waiting for a slot never keeps the process up on its own.
    retry.unref();
    this.#retries.set(hostKey, retry);
  }

  /** A host key with nobody waiting needs no retry. */
  protected override forgotten(hostKey: string): void {
    const retry = this.#retries.get(hostKey);
    if (retry === undefined) return;
    clearTimeout(retry);
    this.#retries.delete(hostKey);
  }
}
