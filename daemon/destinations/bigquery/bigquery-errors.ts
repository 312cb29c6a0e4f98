/**
 * BigQuery failures as EtlErrors. The reason codes come from the REST error reference
 * (cloud.google.com/bigquery/docs/error-messages): quota, rate-limit and backend errors may pass
 * on another attempt; invalid data or SQL, missing objects and permissions will not.
 */
import { withoutRowData } from '../../logging/row-data.js';
import { EtlError, type ErrorCode } from '../../../shared/errors.js';

/** One entry of `status.errors` / `status.errorResult` (ErrorProto). */
export interface BigQueryErrorProto {
  readonly reason?: string;
  readonly location?: string;
  readonly message?: string;
}

const RETRYABLE_REASONS = new Set([
  'backendError',
  'internalError',
  'jobBackendError',
  'jobInternalError',
  'rateLimitExceeded',
  'quotaExceeded',
  'timeout',
  'tableUnavailable',
]);
const QUOTA_REASONS = new Set(['quotaExceeded', 'rateLimitExceeded']);
const PERMISSION_REASONS = new Set([
  'accessDenied',
  'billingNotEnabled',
  'billingTierLimitExceeded',
  'notAuthorized',
]);

export function describeErrorProto(error: BigQueryErrorProto): string {
  const reason = error.reason ?? 'unknown';
  const location = error.location ? ` at ${error.location}` : '';
  return `${reason}${location}: ${withoutRowData(error.message ?? '(no message)')}`;
}

export function classifyReason(
  reason: string | undefined,
  httpStatus?: number,
): { code: ErrorCode; retryable: boolean } {
  if (reason !== undefined && QUOTA_REASONS.has(reason))
    return { code: 'DESTINATION_QUOTA', retryable: true };
  if (reason !== undefined && PERMISSION_REASONS.has(reason))
    return { code: 'DESTINATION_PERMISSION', retryable: false };
  if (reason !== undefined && RETRYABLE_REASONS.has(reason))
    return { code: 'DESTINATION_WRITE', retryable: true };
  if (reason === 'stopped') return { code: 'CANCELLED', retryable: false };
  if (reason !== undefined && reason !== '') return { code: 'DESTINATION_WRITE', retryable: false };
  if (httpStatus === 401 || httpStatus === 403) return { code: 'DESTINATION_PERMISSION', retryable: false };
  if (httpStatus === 429) return { code: 'DESTINATION_QUOTA', retryable: true };
  if (httpStatus !== undefined && httpStatus >= 400 && httpStatus < 500)
    return { code: 'DESTINATION_WRITE', retryable: false };
  // 5xx or no HTTP answer at all (refused, reset, timeout).
  return { code: 'DESTINATION_WRITE', retryable: true };
}

/** A failed job: its `errorResult`, with every further error of `status.errors` in the message. */
export function jobFailure(
  what: string,
  errorResult: BigQueryErrorProto,
  errors: readonly BigQueryErrorProto[] = [],
): EtlError {
  const { code, retryable } = classifyReason(errorResult.reason);
  const others = errors
    .filter((e) => e.message !== errorResult.message)
    .slice(0, 5)
    .map(describeErrorProto);
  const extra = others.length > 0 ? ` (also: ${others.join('; ')})` : '';
  return new EtlError(code, `${what} failed: ${describeErrorProto(errorResult)}${extra}`, { retryable });
}

interface ApiErrorLike {
  code?: unknown;
  message?: unknown;
  errors?: unknown;
}

/** The HTTP status and first ErrorProto of an error thrown by @google-cloud/bigquery (ApiError). */
export function apiErrorParts(error: unknown): {
  status: number | undefined;
  proto: BigQueryErrorProto | undefined;
} {
  if (typeof error !== 'object' || error === null) return { status: undefined, proto: undefined };
  const e = error as ApiErrorLike;
  const status = typeof e.code === 'number' ? e.code : undefined;
  const first = Array.isArray(e.errors) ? (e.errors[0] as BigQueryErrorProto | undefined) : undefined;
  return { status, proto: first };
}

export function toBigQueryError(error: unknown, what: string): EtlError {
  if (error instanceof EtlError) return error;
  const { status, proto } = apiErrorParts(error);
  const { code, retryable } = classifyReason(proto?.reason, status);
  const detail =
    proto !== undefined
      ? describeErrorProto(proto)
      : withoutRowData(error instanceof Error ? error.message : String(error));
  const http = status === undefined ? '' : ` (HTTP ${status})`;
  return new EtlError(code, `${what} failed${http}: ${detail}`, { cause: error, retryable });
}
