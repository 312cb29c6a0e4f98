import { describe, expect, it } from 'vitest';
import { decideRetry, retryDelayMs, type ErrorHandling } from '../../daemon/scheduler/retry-policy.js';

const seed002: ErrorHandling = {
  max_retries: 3,
  retry_delay: 5_000,
  max_retry_delay: 15 * 60_000,
  exponential_backoff: true,
  retry_timeout: 3_600_000,
};

const t0 = new Date('2026-06-01T00:00:00Z');
const plus = (ms: number): Date => new Date(t0.getTime() + ms);

describe('retry policy', () => {
  it('follows the seed-002 timeline: 5 s, 10 s, 20 s, then stop', () => {
    const first = decideRetry(seed002, { attempt: 1, retryable: true, firstFailureAt: t0, failedAt: t0 });
    expect(first).toMatchObject({ retry: true, delayMs: 5_000, nextAttempt: 2 });
    expect(first.retry && first.at.toISOString()).toBe('2026-06-01T00:00:05.000Z');
    expect(
      decideRetry(seed002, { attempt: 2, retryable: true, firstFailureAt: t0, failedAt: plus(5_000) }),
    ).toMatchObject({
      retry: true,
      delayMs: 10_000,
    });
    expect(
      decideRetry(seed002, { attempt: 3, retryable: true, firstFailureAt: t0, failedAt: plus(15_000) }),
    ).toMatchObject({
      retry: true,
      delayMs: 20_000,
      nextAttempt: 4,
    });
    expect(
      decideRetry(seed002, { attempt: 4, retryable: true, firstFailureAt: t0, failedAt: plus(35_000) }),
    ).toMatchObject({
      retry: false,
      reason: 'max_retries',
    });
  });

  it('caps the doubling at max_retry_delay and keeps a constant delay without backoff', () => {
    const capped = { ...seed002, max_retry_delay: 12_000 };
    expect([1, 2, 3, 4, 60].map((n) => retryDelayMs(capped, n))).toEqual([
      5_000, 10_000, 12_000, 12_000, 12_000,
    ]);
    const flat = { ...seed002, exponential_backoff: false };
    expect([1, 2, 3].map((n) => retryDelayMs(flat, n))).toEqual([5_000, 5_000, 5_000]);
  });

  it('never schedules a retry past retry_timeout from the first failure', () => {
    const short = { ...seed002, retry_timeout: 30_000 };
    // Attempt 3 failed at +15 s; the next retry would start at +35 s > 30 s.
    const decision = decideRetry(short, {
      attempt: 3,
      retryable: true,
      firstFailureAt: t0,
      failedAt: plus(15_000),
    });
    expect(decision).toMatchObject({ retry: false, reason: 'retry_timeout' });
    // A retry starting exactly at the deadline is still allowed.
    expect(
      decideRetry(
        { ...seed002, retry_timeout: 35_000 },
        { attempt: 3, retryable: true, firstFailureAt: t0, failedAt: plus(15_000) },
      ),
    ).toMatchObject({
      retry: true,
    });
  });

  it('stops at once for a non-retryable error, and with max_retries 0', () => {
    expect(
      decideRetry(seed002, { attempt: 1, retryable: false, firstFailureAt: t0, failedAt: t0 }),
    ).toMatchObject({
      retry: false,
      reason: 'not_retryable',
    });
    expect(
      decideRetry(
        { ...seed002, max_retries: 0 },
        { attempt: 1, retryable: true, firstFailureAt: t0, failedAt: t0 },
      ),
    ).toMatchObject({
      retry: false,
      reason: 'max_retries',
    });
  });
});
