/**
 * The per-source governor: at most `slotsPerHost` concurrent source queries per host key
 * across all pipelines. Waiters are served first come, first served; an aborted wait leaves the
 * queue at once and rejects with CANCELLED. Counts are exposed so `list`/`status` can show a run
 * as `waiting for source slot`.
 */
import { cancelledError, EtlError } from '../../shared/errors.js';
import type { SourceGovernor as SourceGovernorContract } from '../engine/engine.js';

interface Waiter {
  readonly grant: () => void;
}

interface HostSlots {
  inUse: number;
  readonly queue: Waiter[];
}

export interface HostSlotUsage {
  readonly host: string;
  readonly inUse: number;
  readonly waiting: number;
}

export class SourceGovernor implements SourceGovernorContract {
  #slotsPerHost: number;
  readonly #hosts = new Map<string, HostSlots>();

  constructor(options: { slotsPerHost: number }) {
    this.#slotsPerHost = SourceGovernor.#checked(options.slotsPerHost);
  }

  static #checked(slots: number): number {
    if (!Number.isInteger(slots) || slots < 1) {
      throw new EtlError('CONFIG_INVALID', `source_slots_per_host must be a whole number >= 1, got ${slots}`);
    }
    return slots;
  }

  get slotsPerHost(): number {
    return this.#slotsPerHost;
  }

  /** A settings reload may change the cap; raising it admits waiters at once. */
  setSlotsPerHost(slots: number): void {
    this.#slotsPerHost = SourceGovernor.#checked(slots);
    for (const host of this.#hosts.keys()) this.#admit(host);
  }

  acquire(hostKey: string, signal: AbortSignal, onWait?: () => void): Promise<() => void> {
    if (signal.aborted) return Promise.reject(SourceGovernor.#cancelled(hostKey, signal));
    const slots = this.#slots(hostKey);
    if (slots.inUse < this.#slotsPerHost && slots.queue.length === 0) {
      slots.inUse++;
      return Promise.resolve(this.#releaser(hostKey));
    }
    return new Promise((resolve, reject) => {
      const onAbort = (): void => {
        const index = slots.queue.indexOf(waiter);
        if (index >= 0) slots.queue.splice(index, 1);
        this.#forget(hostKey);
        reject(SourceGovernor.#cancelled(hostKey, signal));
      };
      const waiter: Waiter = {
        grant: () => {
          signal.removeEventListener('abort', onAbort);
          resolve(this.#releaser(hostKey));
        },
      };
      slots.queue.push(waiter);
      signal.addEventListener('abort', onAbort, { once: true });
      onWait?.();
    });
  }

  /** Slots in use and waiters per host, busiest first. */
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
      slots = { inUse: 0, queue: [] };
      this.#hosts.set(hostKey, slots);
    }
    return slots;
  }

  /** Release is idempotent: a double release must not free somebody else's slot. */
  #releaser(hostKey: string): () => void {
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const slots = this.#slots(hostKey);
      slots.inUse--;
      this.#admit(hostKey);
      this.#forget(hostKey);
    };
  }

  #admit(hostKey: string): void {
    const slots = this.#hosts.get(hostKey);
    if (!slots) return;
    while (slots.inUse < this.#slotsPerHost) {
      const next = slots.queue.shift();
      if (!next) break;
      slots.inUse++;
      next.grant();
    }
  }

  #forget(hostKey: string): void {
    const slots = this.#hosts.get(hostKey);
    if (slots && slots.inUse === 0 && slots.queue.length === 0) this.#hosts.delete(hostKey);
  }

  static #cancelled(hostKey: string, signal: AbortSignal): EtlError {
    const reason: unknown = signal.reason;
    const detail = reason instanceof Error ? `: ${reason.message}` : '';
    return cancelledError(`waiting for a source slot on ${hostKey}${detail}`, undefined, reason);
  }
}
