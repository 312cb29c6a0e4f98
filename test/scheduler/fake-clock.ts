import type { Clock, TimerHandle } from '../../daemon/scheduler/clock.js';

interface FakeTimer {
  readonly due: number;
  readonly order: number;
  readonly fn: () => void;
}

/** Lets queued promise callbacks run (the supervisor's continuations after a timer fired). */
export async function settle(turns = 5): Promise<void> {
  for (let i = 0; i < turns; i++) await new Promise<void>((resolve) => setImmediate(resolve));
}

/**
 * A clock that only moves when told to. `advance` fires due timers in time order (ties in the
 * order they were set), moving `now` to each timer's due time and letting promise continuations
 * settle before the next one, so timers set by a fired callback are honoured within the window.
 */
export class FakeClock implements Clock {
  #now: number;
  #order = 0;
  #nextId = 1;
  readonly #timers = new Map<number, FakeTimer>();

  constructor(start: string | Date) {
    this.#now = new Date(start).getTime();
  }

  now(): Date {
    return new Date(this.#now);
  }

  setTimer(ms: number, fn: () => void): TimerHandle {
    const id = this.#nextId++;
    this.#timers.set(id, { due: this.#now + Math.max(0, ms), order: this.#order++, fn });
    return { timerId: id };
  }

  clearTimer(handle: TimerHandle): void {
    this.#timers.delete(handle.timerId);
  }

  get pendingTimers(): number {
    return this.#timers.size;
  }

  async advance(ms: number): Promise<void> {
    await this.advanceTo(new Date(this.#now + ms));
  }

  async advanceTo(target: string | Date): Promise<void> {
    const end = new Date(target).getTime();
    await settle();
    while (true) {
      let nextId: number | undefined;
      let next: FakeTimer | undefined;
      for (const [id, timer] of this.#timers) {
        if (timer.due > end) continue;
        if (!next || timer.due < next.due || (timer.due === next.due && timer.order < next.order)) {
          next = timer;
          nextId = id;
        }
      }
      if (!next || nextId === undefined) break;
      this.#timers.delete(nextId);
      this.#now = Math.max(this.#now, next.due);
      next.fn();
      await settle();
    }
    this.#now = Math.max(this.#now, end);
    await settle();
  }
}
