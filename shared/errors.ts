/**
 * Stable error codes shared by daemon, CLI and console. On the wire an error is
 * `{code, message, retryable}`; clients decide on `code`, never on `instanceof`.
 */
export const ERROR_CODES = [
  // configuration and usage
  'CONFIG_INVALID',
  'CONFIG_NOT_FOUND',
  'SECRET_UNAVAILABLE',
  'USAGE',
  // control socket
  'PROTOCOL_INVALID',
  'PROTOCOL_VERSION',
  'UNKNOWN_METHOD',
  'UNAUTHORIZED',
  /** A read-only connection (read-only socket or token) called a method that changes state. */
  'READ_ONLY',
  'FRAME_TOO_LARGE',
  'TOO_MANY_CLIENTS',
  'DAEMON_UNREACHABLE',
  'NOT_FOUND',
  'ILLEGAL_STATE',
  // runs
  'SOURCE_CONNECTION',
  'SOURCE_QUERY',
  'SOURCE_TIMEOUT',
  'SOURCE_PERMISSION',
  'SOURCE_DATA',
  'TRANSFORM_INVALID',
  'SCHEMA_MISMATCH',
  'DESTINATION_WRITE',
  'DESTINATION_CONFLICT',
  'DESTINATION_PERMISSION',
  'DESTINATION_QUOTA',
  'UNSUPPORTED_TABLE_FEATURE',
  'RECONCILIATION_FAILED',
  /** A data quality check with `on_fail: fail` found the batch wanting: nothing was written. */
  'CHECK_FAILED',
  /** A data quality check cannot be evaluated (unknown column, SQL that does not bind, a bound of the wrong type). */
  'CHECK_INVALID',
  /** Tables of a multi-table run did not load (each named); the others committed on their own. */
  'TABLES_FAILED',
  /** The run's staging database or its temp directory failed (disk full, memory): retried. */
  'STAGING',
  'CANCELLED',
  'STALLED',
  'INTERRUPTED',
  // daemon
  'STATE_STORE',
  'STATE_STORE_NEWER',
  /** The destination and the state store disagree about what was committed; runs stop until resolved. */
  'STATE_INCONSISTENT',
  'LOCKED',
  'INTERNAL',
] as const;

export type ErrorCode = (typeof ERROR_CODES)[number];

const KNOWN_CODES: ReadonlySet<string> = new Set(ERROR_CODES);

/**
 * A code read back from storage: a known one as it is, an unknown one (never written by this
 * version: codes are only ever added) as INTERNAL, so a typed reader never sees a bare string.
 */
export function storedErrorCode(value: unknown): ErrorCode | null {
  if (value === null || value === undefined) return null;
  return typeof value === 'string' && KNOWN_CODES.has(value) ? (value as ErrorCode) : 'INTERNAL';
}

export interface SerializedError {
  readonly code: ErrorCode;
  readonly message: string;
  readonly retryable: boolean;
}

/** Errors whose code alone says whether another attempt can help. */
const RETRYABLE_BY_DEFAULT: ReadonlySet<ErrorCode> = new Set<ErrorCode>([
  'SOURCE_CONNECTION',
  'SOURCE_TIMEOUT',
  'DESTINATION_WRITE',
  'DESTINATION_CONFLICT',
  'DESTINATION_QUOTA',
  'STALLED',
  'STAGING',
  'INTERRUPTED',
  'DAEMON_UNREACHABLE',
  'STATE_STORE',
]);

export function isRetryableCode(code: ErrorCode): boolean {
  return RETRYABLE_BY_DEFAULT.has(code);
}

export interface EtlErrorOptions {
  readonly cause?: unknown;
  /** Overrides the code's default classification. */
  readonly retryable?: boolean;
}

/** The one error type of etld: a stable code, a retry classification and a human message. */
export class EtlError extends Error {
  readonly code: ErrorCode;
  readonly retryable: boolean;

  constructor(code: ErrorCode, message: string, options: EtlErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'EtlError';
    this.code = code;
    this.retryable = options.retryable ?? isRetryableCode(code);
  }

  toJSON(): SerializedError {
    return { code: this.code, message: this.message, retryable: this.retryable };
  }
}

export function isEtlError(value: unknown): value is EtlError {
  return value instanceof EtlError;
}

/**
 * The one way to say that work was cancelled (by an operator, a drain or a stall): `<what> was
 * cancelled`, with what that leaves behind when it matters to the reader (`nothing was committed`).
 * CANCELLED is never retried.
 */
export function cancelledError(what: string, consequence?: string, cause?: unknown): EtlError {
  const message = `${what} was cancelled${consequence === undefined ? '' : `; ${consequence}`}`;
  return new EtlError('CANCELLED', message, cause === undefined ? {} : { cause });
}

/** Wraps anything thrown into an EtlError, keeping an existing code. */
export function toEtlError(value: unknown, fallback: ErrorCode = 'INTERNAL'): EtlError {
  if (value instanceof EtlError) return value;
  const message = value instanceof Error ? value.message : String(value);
  return new EtlError(fallback, message, { cause: value });
}
