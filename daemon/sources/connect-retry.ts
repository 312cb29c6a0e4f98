import { EtlError } from '../../shared/errors.js';
import { sleep, throwIfAborted } from './abort.js';

export interface ConnectRetryOptions {
  /** `postgres source "s1" (db1:5432/shop)`: names the target in messages, never the secret. */
  readonly what: string;
  readonly attempts: number;
  readonly delayMs: number;
  readonly signal?: AbortSignal;
}

/**
 * `connection_retry`: quick reconnects inside one run attempt. Only errors classified as
 * retryable are retried (a refused password does not get better by asking again); the last
 * error is reported with the number of attempts made.
 */
export async function connectWithRetry<T>(
  options: ConnectRetryOptions,
  connect: () => Promise<T>,
  classify: (error: unknown) => EtlError,
): Promise<T> {
  const attempts = Math.max(1, options.attempts);
  for (let attempt = 1; ; attempt++) {
    throwIfAborted(options.signal, options.what);
    try {
      return await connect();
    } catch (error) {
      throwIfAborted(options.signal, options.what);
      const etl = classify(error);
      if (!etl.retryable) throw etl;
      if (attempt >= attempts) {
        const plural = attempts === 1 ? 'attempt' : 'attempts';
        throw new EtlError(etl.code, `${etl.message} (gave up after ${attempts} ${plural})`, {
          cause: error,
          retryable: etl.retryable,
        });
      }
      await sleep(options.delayMs, options.signal, options.what);
    }
  }
}
