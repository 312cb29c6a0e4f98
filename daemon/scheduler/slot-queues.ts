/**
 * The local half of a source governor: per source host key, the slots this process holds and a
 * first come, first served queue of waiters. An aborted wait leaves the queue at once and rejects
 * CANCELLED; a release is idempotent. A governor extends it with what it adds to the local cap:
 * SourceGovernor nothing, FleetSourceGovernor the question whether the head waiter may also take
 * a slot of the fleet (take), giving it back (giveBack) and asking again later.
 */
import { cancelledError, toEtlError, type EtlError } from '../../shared/errors.js';

export interface HostSlotUsage {
  readonly host: string;
  readonly inUse: number;
  readonly waiting: number;
}

interface Waiter<Grant> {
  readonly grant: (grant: Grant) => void;
  readonly fail: (error: EtlError) => void;
}

interface HostSlots<Grant> {
  inUse: number;
  readonly queue: Waiter<Grant>[];
}

/** `Grant` is what a taken slot must be given back with. */
export abstract class SlotQueues<Grant> {
  #slotsPerHost: number;
  readonly #hosts = new Map<string, HostSlots<Grant>>();

  /** `slotsPerHost` is taken as given: the governors check it the way their settings require. */
  constructor(slotsPerHost: number) {
    this.#slotsPerHost = slotsPerHost;
  }

  /**
   * Asked once the local cap has room for the head of a queue (or for a caller with nobody ahead):
   * its grant, or null when refused for now, in which case the governor itself arranges a later
   * `admit(hostKey)`. Throws an EtlError when it cannot answer: the waiters of that host key fail
   * with it, since every one of them would get the same answer.
   */
  protected abstract take(hostKey: string): Grant | null;

  /** Gives a slot back. Must not throw: the engine releases in finally blocks. */
  protected abstract giveBack(grant: Grant): void;

  /** The host key holds no slot and has no waiter any more: its state is dropped. */
  protected forgotten(_hostKey: string): void {
    // Nothing kept beside the queue by default.
  }

  protected get cap(): number {
    return this.#slotsPerHost;
  }

  /** Raising the cap admits waiters at once. */
  protected setCap(slots: number): void {
    this.#slotsPerHost = slots;
    for (const host of this.#hosts.keys()) this.admit(host);
  }

  acquire(hostKey: string, signal: AbortSignal, onWait?: () => void): Promise<() => void> {
    if (signal.aborted) return Promise.reject(SlotQueues.#cancelled(hostKey, signal));
    const slots = this.#slots(hostKey);
    if (slots.queue.length === 0 && slots.inUse < this.#slotsPerHost) {
      let grant: Grant | null;
      try {
        grant = this.take(hostKey);
      } catch (error) {
        this.#forget(hostKey);
        return Promise.reject(toEtlError(error));
      }
      if (grant !== null) {
        slots.inUse++;
        return Promise.resolve(this.#releaser(hostKey, grant));
      }
    }
    return new Promise((resolve, reject) => {
      const onAbort = (): void => {
        const index = slots.queue.indexOf(waiter);
        if (index >= 0) slots.queue.splice(index, 1);
        this.#forget(hostKey);
        reject(SlotQueues.#cancelled(hostKey, signal));
      };
      const waiter: Waiter<Grant> = {
        grant: (grant) => {
          signal.removeEventListener('abort', onAbort);
          resolve(this.#releaser(hostKey, grant));
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

  /** Grants head waiters while the local cap and take() allow. */
  protected admit(hostKey: string): void {
    const slots = this.#hosts.get(hostKey);
    if (!slots) return;
    while (slots.inUse < this.#slotsPerHost) {
      const next = slots.queue[0];
      if (next === undefined) break;
      let grant: Grant | null;
      try {
        grant = this.take(hostKey);
      } catch (error) {
        // Every waiter would get the same answer; one failed question is enough.
        const failure = toEtlError(error);
        for (const waiter of slots.queue.splice(0)) waiter.fail(failure);
        break;
      }
      if (grant === null) break;
      slots.queue.shift();
      slots.inUse++;
      next.grant(grant);
    }
    this.#forget(hostKey);
  }

  /** Slots in use and waiters per host key, busiest first. */
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

  #slots(hostKey: string): HostSlots<Grant> {
    let slots = this.#hosts.get(hostKey);
    if (!slots) {
      slots = { inUse: 0, queue: [] };
      this.#hosts.set(hostKey, slots);
    }
    return slots;
  }

  /** Release is idempotent: a double release must not free somebody else's slot. */
  #releaser(hostKey: string, grant: Grant): () => void {
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.#slots(hostKey).inUse--;
      this.giveBack(grant);
      this.admit(hostKey);
    };
  }

  #forget(hostKey: string): void {
    const slots = this.#hosts.get(hostKey);
    if (slots && slots.inUse === 0 && slots.queue.length === 0) {
      this.#hosts.delete(hostKey);
      this.forgotten(hostKey);
    }
  }

  static #cancelled(hostKey: string, signal: AbortSignal): EtlError {
    const reason: unknown = signal.reason;
    const detail = reason instanceof Error ? `: ${reason.message}` : '';
    return cancelledError(`waiting for a source slot on ${hostKey}${detail}`, undefined, reason);
  }
}
