/**
 * The source governor of a fleet: `source_slots_per_host` concurrent queries per source host key
 * across every etld host sharing the PostgreSQL store. Locally it behaves as SourceGovernor does
 * (first come, first served per host key; an aborted wait leaves the queue at once and rejects
 * CANCELLED), and the waiter at the head of a queue is granted only when the fleet's table grants
 * it a slot. When the fleet is full the head is retried every RETRY_MS and whenever a local slot
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
import { cancelledError, toEtlError, type EtlError } from '../../shared/errors.js';
import type { SourceGovernor as SourceGovernorContract } from '../engine/engine.js';
import type { HostSlotUsage } from '../scheduler/source-governor.js';
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

interface Waiter {
  readonly grant: (slotId: string) => void;
  readonly fail: (error: EtlError) => void;
}

interface HostSlots {
  inUse: number;
  readonly queue: Waiter[];
  retry: NodeJS.Timeout | null;
}

export class FleetSourceGovernor implements SourceGovernorContract {
  readonly #o: FleetSourceGovernorOptions;
  readonly #hosts = new Map<string, HostSlots>();

  constructor(options: FleetSourceGovernorOptions) {
    this.#o = options;
  }

  acquire(hostKey: string, signal: AbortSignal, onWait?: () => void): Promise<() => void> {
    if (signal.aborted) return Promise.reject(FleetSourceGovernor.#cancelled(hostKey, signal));
    const slots = this.#slots(hostKey);
    if (slots.queue.length === 0 && slots.inUse < this.#o.slotsPerHost) {
      let slotId: string | null;
      try {
        slotId = this.#o.slots.take(hostKey, this.#o.slotsPerHost);
      } catch (error) {
        this.#forget(hostKey);
        return Promise.reject(toEtlError(error, 'STATE_STORE'));
      }
      if (slotId !== null) {
        slots.inUse++;
        return Promise.resolve(this.#releaser(hostKey, slotId));
      }
      this.#retryLater(hostKey);
    }
    return new Promise((resolve, reject) => {
      const onAbort = (): void => {
        const index = slots.queue.indexOf(waiter);
        if (index >= 0) slots.queue.splice(index, 1);
        this.#forget(hostKey);
        reject(FleetSourceGovernor.#cancelled(hostKey, signal));
      };
      const waiter: Waiter = {
        grant: (slotId) => {
          signal.removeEventListener('abort', onAbort);
          resolve(this.#releaser(hostKey, slotId));
        },
        fail: (error) => {
          signal.removeEventListener('abort', onAbort);
          reject(error);
        },
      };
      slots.queue.push(waiter);
      signal.addEventListener('abort', onAbort, { once: true });
      onWait?.();
    });
  }

  /** Slots this host holds and its waiters per source host key, busiest first. */
  usage(): HostSlotUsage[] {
    return [...this.#hosts.entries()]
      .map(([host, s]) => ({ host, inUse: s.inUse, waiting: s.queue.length }))
      .sort((a, b) => b.inUse + b.waiting - (a.inUse + a.waiting) || a.host.localeCompare(b.host));
  }

  waiting(hostKey: string): number {
    return this.#hosts.get(hostKey)?.queue.length ?? 0;
  }

  inUse(hostKey: string): number {
    return this.#hosts.get(hostKey)?.inUse ?? 0;
  }

  #slots(hostKey: string): HostSlots {
    let slots = this.#hosts.get(hostKey);
    if (!slots) {
      slots = { inUse: 0, queue: [], retry: null };
      this.#hosts.set(hostKey, slots);
    }
    return slots;
  }

  /** Release is idempotent: a double release must not free somebody else's slot. */
  #releaser(hostKey: string, slotId: string): () => void {
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const slots = this.#slots(hostKey);
      slots.inUse--;
      try {
        this.#o.slots.release(slotId);
      } catch (error) {
        // The engine's release runs in finally blocks: it must not throw. The row is no longer
        // renewed, so the fleet gets the slot back after the lease time.
        this.#o.onReleaseError?.(toEtlError(error, 'STATE_STORE'));
      }
      this.#admit(hostKey);
      this.#forget(hostKey);
    };
  }

  /** Grants head waiters while this host and the fleet have room; a full fleet is asked again later. */
  #admit(hostKey: string): void {
    const slots = this.#hosts.get(hostKey);
    if (!slots) return;
    while (slots.inUse < this.#o.slotsPerHost) {
      const next = slots.queue[0];
      if (next === undefined) break;
      let slotId: string | null;
      try {
        slotId = this.#o.slots.take(hostKey, this.#o.slotsPerHost);
      } catch (error) {
        // Every waiter would get the same answer; one failed round trip is enough.
        const failure = toEtlError(error, 'STATE_STORE');
        for (const waiter of slots.queue.splice(0)) waiter.fail(failure);
        break;
      }
      if (slotId === null) {
        this.#retryLater(hostKey);
        break;
      }
      slots.queue.shift();
      slots.inUse++;
      next.grant(slotId);
    }
    this.#forget(hostKey);
  }

  /**
   * One pending retry per host key, armed only when the fleet refused: while this host's own cap
   * is what holds a waiter back, its next local release admits it.
   */
  #retryLater(hostKey: string): void {
    const slots = this.#hosts.get(hostKey);
    if (!slots || slots.retry !== null) return;
    slots.retry = setTimeout(() => {
      slots.retry = null;
      this.#admit(hostKey);
    }, this.#o.retryMs ?? RETRY_MS);
    // Waiting for a slot never keeps the process up on its own.
    slots.retry.unref();
  }

  #forget(hostKey: string): void {
    const slots = this.#hosts.get(hostKey);
    if (slots && slots.inUse === 0 && slots.queue.length === 0) {
      if (slots.retry !== null) clearTimeout(slots.retry);
      this.#hosts.delete(hostKey);
    }
  }

  static #cancelled(hostKey: string, signal: AbortSignal): EtlError {
    const reason: unknown = signal.reason;
    const detail = reason instanceof Error ? `: ${reason.message}` : '';
    return cancelledError(`waiting for a source slot on ${hostKey}${detail}`, undefined, reason);
  }
}
