/**
 * Watches one attempt's progress: when rows and bytes have not moved for `timeoutMs` it calls
 * `onStall` once. Time spent waiting for a source slot (`phase: 'waiting'`) is not a stall: the
 * governor, not the run, is holding it back. One timer per attempt, re-armed lazily when it fires
 * early, so frequent progress reports cost no timer churn.
 */
import type { ProgressSnapshot } from '../engine/engine.js';
import type { Clock, TimerHandle } from './clock.js';

export class StallWatchdog {
  readonly #clock: Clock;
  readonly #timeoutMs: number;
  readonly #onStall: (stalledForMs: number) => void;
  #timer: TimerHandle | null = null;
  #lastMoveAt = 0;
  #rows = -1;
  #bytes = -1;
  #waiting = false;
  #done = false;

  constructor(clock: Clock, timeoutMs: number, onStall: (stalledForMs: number) => void) {
    this.#clock = clock;
    this.#timeoutMs = timeoutMs;
    this.#onStall = onStall;
  }

  start(): void {
    this.#lastMoveAt = this.#clock.now().getTime();
    this.#arm(this.#timeoutMs);
  }

  observe(progress: ProgressSnapshot): void {
    if (this.#done) return;
    const waiting = progress.phase === 'waiting';
    if (waiting !== this.#waiting || progress.rows !== this.#rows || progress.bytes !== this.#bytes) {
      this.#lastMoveAt = this.#clock.now().getTime();
    }
    this.#rows = progress.rows;
    this.#bytes = progress.bytes;
    this.#waiting = waiting;
    if (waiting) this.#disarm();
    else if (this.#timer === null) this.#arm(this.#timeoutMs);
  }

  stop(): void {
    this.#done = true;
    this.#disarm();
  }

  #arm(ms: number): void {
    this.#timer = this.#clock.setTimer(ms, () => this.#check());
  }

  #disarm(): void {
    if (this.#timer !== null) this.#clock.clearTimer(this.#timer);
    this.#timer = null;
  }

  #check(): void {
    this.#timer = null;
    if (this.#done || this.#waiting) return;
    const still = this.#clock.now().getTime() - this.#lastMoveAt;
    if (still < this.#timeoutMs) {
      this.#arm(this.#timeoutMs - still);
      return;
    }
    this.#done = true;
    this.#onStall(still);
  }
}
