/**
 * The `error_handling` policy of a pipeline, as a
 * pure decision: after attempt n failed, is there an attempt n+1 and when does it start?
 *
 * Seed 002's worked example (retry_delay 5s, exponential_backoff, max_retries 3): the run fails at
 * midnight, retries after 5 s, then 10 s, then 20 s, then waits for its next schedule. So the delay
 * after failed attempt n is retry_delay · 2^(n-1) (or retry_delay without backoff), capped at
 * max_retry_delay; there are at most max_retries retries (max_retries + 1 attempts); and no retry
 * starts later than retry_timeout after the first failure of the run.
 */
import type { PipelineConfig } from '../../shared/config/pipeline-schema.js';

export type ErrorHandling = PipelineConfig['error_handling'];

export type RetryDecision =
  | { readonly retry: true; readonly delayMs: number; readonly at: Date; readonly nextAttempt: number }
  | { readonly retry: false; readonly reason: RetryStopReason; readonly explanation: string };

export type RetryStopReason = 'not_retryable' | 'max_retries' | 'retry_timeout';

export interface FailedAttempt {
  /** 1-based number of the attempt that just failed. */
  readonly attempt: number;
  readonly retryable: boolean;
  /** When the first attempt of this run failed (retry_timeout counts from here). */
  readonly firstFailureAt: Date;
  /** When this attempt failed. */
  readonly failedAt: Date;
}

/** Delay before the retry that follows failed attempt `attempt` (1-based). */
export function retryDelayMs(policy: ErrorHandling, attempt: number): number {
  const base = policy.retry_delay;
  if (!policy.exponential_backoff) return Math.min(base, policy.max_retry_delay);
  // Past 2^40 the cap applies anyway; stopping the doubling there avoids Infinity.
  const factor = 2 ** Math.min(Math.max(attempt - 1, 0), 40);
  return Math.min(base * factor, policy.max_retry_delay);
}

export function decideRetry(policy: ErrorHandling, failed: FailedAttempt): RetryDecision {
  if (!failed.retryable) {
    return { retry: false, reason: 'not_retryable', explanation: 'the error is not retryable' };
  }
  const retriesDone = failed.attempt - 1;
  if (retriesDone >= policy.max_retries) {
    return {
      retry: false,
      reason: 'max_retries',
      explanation: `retries exhausted: ${failed.attempt} attempt(s), max_retries ${policy.max_retries}`,
    };
  }
  const delayMs = retryDelayMs(policy, failed.attempt);
  const at = new Date(failed.failedAt.getTime() + delayMs);
  const deadline = failed.firstFailureAt.getTime() + policy.retry_timeout;
  if (at.getTime() > deadline) {
    return {
      retry: false,
      reason: 'retry_timeout',
      explanation: `retry_timeout reached: the next retry would start ${Math.round((at.getTime() - failed.firstFailureAt.getTime()) / 1000)} s after the first failure, past retry_timeout ${Math.round(policy.retry_timeout / 1000)} s`,
    };
  }
  return { retry: true, delayMs, at, nextAttempt: failed.attempt + 1 };
}
