/**
 * How the object stores retry a request the service throttled (S3 SlowDown / 503, GCS 429,
 * Azure 503 ServerBusy) or failed with a 5xx or a network error: exponential backoff with full
 * jitter (a random delay between 0 and base × 2^retry, capped), so writers that were throttled
 * together do not come back together. S3 and GCS apply it inside their SDKs (per request, so a
 * multipart upload retries one part, not the file); Azure through `withRetries`.
 */

export interface RetryPolicy {
  /** Tries of one request, the first included. */
  readonly maxAttempts: number;
  readonly baseDelayMs: number;
  readonly maxDelayMs: number;
}

export const DEFAULT_RETRY_POLICY: RetryPolicy = { maxAttempts: 6, baseDelayMs: 200, maxDelayMs: 20_000 };

/** The wait before retry number `retry` (1 for the first retry). */
export function backoffDelay(retry: number, policy: RetryPolicy, random: () => number = Math.random): number {
  const ceiling = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** Math.max(0, retry - 1));
  return Math.floor(random() * ceiling);
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * Runs `attempt` until it succeeds, throws what `isRetryable` refuses, or has been tried
 * `maxAttempts` times (then the last error is thrown).
 */
export async function withRetries<T>(
  attempt: () => Promise<T>,
  policy: RetryPolicy,
  isRetryable: (error: unknown) => boolean,
): Promise<T> {
  for (let tried = 1; ; tried++) {
    try {
      return await attempt();
    } catch (error) {
      if (tried >= policy.maxAttempts || !isRetryable(error)) throw error;
      await sleep(backoffDelay(tried, policy));
    }
  }
}
