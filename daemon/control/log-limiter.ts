/**
 * Caps how many lines one noisy source (a client sending garbage, a connection flood) may add to
 * the daemon's log: `max` lines per window, then silence with a count reported on the next line.
 */
export class LogLimiter {
  readonly #max: number;
  readonly #windowMs: number;
  readonly #now: () => number;
  #windowStart = Number.NEGATIVE_INFINITY;
  #used = 0;
  #suppressed = 0;

  constructor(max: number, windowMs: number, now: () => number = Date.now) {
    this.#max = max;
    this.#windowMs = windowMs;
    this.#now = now;
  }

  /** `undefined` when the line must be dropped; otherwise how many lines were dropped before it. */
  take(): number | undefined {
    const now = this.#now();
    if (now - this.#windowStart >= this.#windowMs) {
      this.#windowStart = now;
      this.#used = 0;
    }
    if (this.#used >= this.#max) {
      this.#suppressed++;
      return undefined;
    }
    this.#used++;
    const dropped = this.#suppressed;
    this.#suppressed = 0;
    return dropped;
  }

  /** Lines dropped since the last one written (for a closing summary). */
  get suppressed(): number {
    return this.#suppressed;
  }
}
