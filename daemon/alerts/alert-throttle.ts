/**
 * One mail per window per key (pipeline + kind); alerts inside the window are counted and the count
 * goes into the next mail. The window starts at the last mail actually sent (or attempted), so a
 * steady stream of failures gives one mail per window, not one per failure.
 */

export interface ThrottleState {
  /** When the last mail of this key was sent or attempted (ms since epoch). */
  readonly lastSentAt: number;
  /** Alerts suppressed since then. */
  readonly suppressed: number;
  /** ISO time of the first suppressed alert, if any. */
  readonly suppressedSince: string | null;
}

export interface ThrottleDecision {
  readonly send: boolean;
  /** For a mail: how many alerts of this key were suppressed before it. */
  readonly suppressed: number;
  readonly suppressedSince: string | null;
}

export class AlertThrottle {
  readonly #windowMs: number;
  readonly #states = new Map<string, ThrottleState>();

  constructor(windowMs: number) {
    this.#windowMs = windowMs;
  }

  get windowMs(): number {
    return this.#windowMs;
  }

  /**
   * Decides for one alert at `nowMs`. `seed` supplies the state persisted by a previous daemon the
   * first time a key is seen, so a crash-looping daemon does not mail on every start.
   */
  decide(key: string, nowMs: number, seed?: () => ThrottleState | undefined): ThrottleDecision {
    if (!this.#states.has(key) && seed) {
      const seeded = seed();
      if (seeded) this.#states.set(key, seeded);
    }
    const state = this.#states.get(key);
    if (state && nowMs - state.lastSentAt < this.#windowMs) {
      this.#states.set(key, {
        lastSentAt: state.lastSentAt,
        suppressed: state.suppressed + 1,
        suppressedSince: state.suppressedSince ?? new Date(nowMs).toISOString(),
      });
      return { send: false, suppressed: 0, suppressedSince: null };
    }
    this.#states.set(key, { lastSentAt: nowMs, suppressed: 0, suppressedSince: null });
    return {
      send: true,
      suppressed: state?.suppressed ?? 0,
      suppressedSince: state?.suppressedSince ?? null,
    };
  }

  /** Forgets a key (a new episode starts); returns how many alerts it had suppressed. */
  reset(key: string): number {
    const suppressed = this.#states.get(key)?.suppressed ?? 0;
    // Kept as "never sent" rather than deleted, so the persisted history is not seeded back in.
    this.#states.set(key, { lastSentAt: Number.NEGATIVE_INFINITY, suppressed: 0, suppressedSince: null });
    return suppressed;
  }
}
