/**
 * Time as the scheduler sees it. Everything in scheduler/ reads the time and sets timers through a
 * Clock so tests drive days of schedules, retries and stall timeouts with a fake clock instead of
 * waiting (test/scheduler/fake-clock.ts).
 */

/** An opaque handle returned by `setTimer`; only the clock that made it can clear it. */
export interface TimerHandle {
  readonly timerId: number;
}

export interface Clock {
  now(): Date;
  /** Calls `fn` once after `ms` milliseconds (0 or negative: on the next turn of the loop). */
  setTimer(ms: number, fn: () => void): TimerHandle;
  clearTimer(handle: TimerHandle): void;
}

/**
 * Node's timers overflow above 2^31-1 ms (about 24.8 days) and then fire at once, so longer
 * waits are split into hops; callers never see the hops.
 */
const MAX_TIMER_MS = 2_147_483_647;

export class SystemClock implements Clock {
  readonly #timers = new Map<number, NodeJS.Timeout>();
  #nextId = 1;

  now(): Date {
    return new Date();
  }

  setTimer(ms: number, fn: () => void): TimerHandle {
    const handle: TimerHandle = { timerId: this.#nextId++ };
    const due = Date.now() + Math.max(0, ms);
    const arm = (): void => {
      const left = due - Date.now();
      const timer = setTimeout(
        () => {
          if (left > MAX_TIMER_MS) {
            arm();
            return;
          }
          this.#timers.delete(handle.timerId);
          fn();
        },
        Math.min(Math.max(0, left), MAX_TIMER_MS),
      );
      this.#timers.set(handle.timerId, timer);
    };
    arm();
    return handle;
  }

  clearTimer(handle: TimerHandle): void {
    const timer = this.#timers.get(handle.timerId);
    if (timer !== undefined) clearTimeout(timer);
    this.#timers.delete(handle.timerId);
  }
}
