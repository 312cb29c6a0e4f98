/**
 * The checks of `etlctl test` as destinations (and the engine, for the source) record them: each
 * check runs with its own deadline, a failure becomes a `failed` check with the error's code
 * instead of ending the test, and a check that depends on one that failed is `skipped`. Nothing
 * here writes: the functions a check runs only read catalogs, permissions and files' modes.
 */
import type { ErrorCode } from '../../shared/errors.js';
import { EtlError, toEtlError } from '../../shared/errors.js';
import { withoutRowData } from '../logging/row-data.js';

export type AccessStatus = 'ok' | 'warning' | 'failed' | 'skipped';

export interface AccessCheck {
  /** A stable id: `destination_connect`, `destination_table`, `write_permission`… */
  readonly check: string;
  readonly status: AccessStatus;
  /** One sentence naming the host, table or column; never a secret or a row value. */
  readonly detail: string;
  readonly code: ErrorCode | null;
  readonly durationMs: number;
}

/** What a destination's `checkAccess` is told about the pipeline. */
export interface AccessCheckRequest {
  /** The pipeline's load mode: what the privileges are checked for. */
  readonly mode: 'full' | 'incremental' | 'merge';
  readonly signal: AbortSignal;
  /** The deadline of each check. */
  readonly timeoutMs: number;
}

/** What a check's work says when it does not throw. */
export interface CheckOutcome<T> {
  readonly status: AccessStatus;
  readonly detail: string;
  /** The code of a failed or warning outcome (default DESTINATION_PERMISSION for failed). */
  readonly code?: ErrorCode;
  /** Handed to the checks that depend on this one. */
  readonly value?: T;
}

/** Runs `work` until `ms` have passed or `signal` aborts; the work's own signal aborts with it. */
async function withDeadline<T>(
  ms: number,
  signal: AbortSignal,
  what: string,
  timeoutCode: ErrorCode,
  work: (signal: AbortSignal) => Promise<T>,
): Promise<T> {
  const inner = new AbortController();
  const forward = (): void => inner.abort(signal.reason);
  signal.addEventListener('abort', forward, { once: true });
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      const error = new EtlError(timeoutCode, `${what} did not answer within ${Math.round(ms / 1000)}s`);
      inner.abort(error);
      reject(error);
    }, ms);
  });
  try {
    // The work may ignore its signal (a driver call without one): the deadline still ends the wait.
    return await Promise.race([work(inner.signal), deadline]);
  } finally {
    clearTimeout(timer);
    signal.removeEventListener('abort', forward);
  }
}

/** Collects checks in order; see the file comment. */
export class CheckRecorder {
  readonly checks: AccessCheck[] = [];
  readonly #signal: AbortSignal;
  readonly #timeoutMs: number;
  readonly #timeoutCode: ErrorCode;
  readonly #failedCode: ErrorCode;

  constructor(options: {
    readonly signal: AbortSignal;
    readonly timeoutMs: number;
    /** The code of a check that ran out of time (SOURCE_TIMEOUT, DESTINATION_WRITE). */
    readonly timeoutCode: ErrorCode;
    /** The code of a `failed` outcome that names none. */
    readonly failedCode: ErrorCode;
  }) {
    this.#signal = options.signal;
    this.#timeoutMs = options.timeoutMs;
    this.#timeoutCode = options.timeoutCode;
    this.#failedCode = options.failedCode;
  }

  /**
   * Runs one check; resolves with its outcome's value, or undefined when it failed (so the
   * checks that need it are skipped). `timeoutMs` overrides the recorder's deadline (connects).
   */
  async run<T>(
    check: string,
    work: (signal: AbortSignal) => Promise<CheckOutcome<T>>,
    timeoutMs = this.#timeoutMs,
  ): Promise<T | undefined> {
    const started = performance.now();
    const elapsed = (): number => Math.round(performance.now() - started);
    try {
      const outcome = await withDeadline(timeoutMs, this.#signal, check, this.#timeoutCode, work);
      this.checks.push({
        check,
        status: outcome.status,
        detail: outcome.detail,
        code:
          outcome.status === 'ok' || outcome.status === 'skipped'
            ? null
            : (outcome.code ?? (outcome.status === 'failed' ? this.#failedCode : null)),
        durationMs: elapsed(),
      });
      return outcome.status === 'failed' || outcome.status === 'skipped' ? undefined : outcome.value;
    } catch (error) {
      const failure = toEtlError(error);
      this.checks.push({
        check,
        status: 'failed',
        detail: withoutRowData(failure.message),
        code: failure.code,
        durationMs: elapsed(),
      });
      return undefined;
    }
  }

  skip(check: string, detail: string): void {
    this.checks.push({ check, status: 'skipped', detail, code: null, durationMs: 0 });
  }
}

/** `INSERT, TRUNCATE` → `INSERT and TRUNCATE`: privilege lists in sentences. */
export function listWords(words: readonly string[]): string {
  if (words.length <= 1) return words.join('');
  return `${words.slice(0, -1).join(', ')} and ${words.at(-1) ?? ''}`;
}
