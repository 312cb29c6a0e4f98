/**
 * Waiting in tests: on the event itself where there is one, else on a polled condition, and always
 * with a deadline whose failure names what was awaited. Never a fixed sleep before an assertion:
 * on a loaded machine it is too short (a flake), on an idle one it is time wasted.
 *
 * No child_process here, directly or through an import: the unit tier (vitest.unit.config.ts)
 * takes every test file that starts no process, found by following its imports.
 */

const DEFAULT_TIMEOUT_MS = 30_000;

/** `promise`, or `onTimeout()`'s error once `timeoutMs` passed first. */
function raceDeadline<T>(promise: Promise<T>, timeoutMs: number, onTimeout: () => Error): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(onTimeout()), timeoutMs);
  });
  return Promise.race([promise, expired]).finally(() => clearTimeout(timer));
}

/** `promise`, or a rejection naming `what` if it has not settled within `timeoutMs`. */
export function within<T>(promise: Promise<T>, what: string, timeoutMs = DEFAULT_TIMEOUT_MS): Promise<T> {
  return raceDeadline(
    promise,
    timeoutMs,
    () => new Error(`timed out after ${timeoutMs} ms waiting for ${what}`),
  );
}

/**
 * The next value reported to a listener that `accept` takes. `subscribe` adds the listener and
 * returns what removes it (as DaemonClient's onEvent and onState do); it is removed once the value
 * came or the deadline passed.
 */
export function nextEvent<T>(
  subscribe: (listener: (value: T) => void) => () => void,
  what: string,
  options: { accept?: (value: T) => boolean; timeoutMs?: number } = {},
): Promise<T> {
  const accept = options.accept ?? (() => true);
  let unsubscribe: (() => void) | undefined;
  const event = new Promise<T>((resolve) => {
    unsubscribe = subscribe((value) => {
      if (accept(value)) resolve(value);
    });
  });
  return within(event, what, options.timeoutMs).finally(() => unsubscribe?.());
}

/**
 * Polls `probe` until it returns something other than undefined. For conditions with no event to
 * wait on; a probe still running at the deadline does not extend it.
 */
export async function waitFor<T>(
  probe: () => Promise<T | undefined> | T | undefined,
  { timeoutMs = DEFAULT_TIMEOUT_MS, intervalMs = 100, what = 'condition' } = {},
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    const left = deadline - Date.now();
    if (left <= 0) break;
    try {
      const value = await raceDeadline(
        Promise.resolve().then(probe),
        left,
        () => new Error('the last probe had not answered'),
      );
      if (value !== undefined) return value;
    } catch (error) {
      lastError = error;
    }
    await new Promise((resolve) =>
      setTimeout(resolve, Math.min(intervalMs, Math.max(0, deadline - Date.now()))),
    );
  }
  throw new Error(
    `timed out after ${timeoutMs} ms waiting for ${what}${lastError instanceof Error ? `: ${lastError.message}` : ''}`,
  );
}
