/** Classifies PostgreSQL failures of the destination by SQLSTATE class. */
import { withoutRowData } from '../../logging/row-data.js';
import { EtlError } from '../../../shared/errors.js';

interface PgLikeError {
  code?: unknown;
  message?: unknown;
  detail?: unknown;
  column?: unknown;
}

function sqlState(error: unknown): string | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  const code = (error as PgLikeError).code;
  return typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code) ? code : undefined;
}

/**
 * Connection loss, resource shortage, serialization failures and server shutdowns may pass on
 * another attempt; permissions, constraint violations, bad data and missing objects will not.
 */
export function toDestinationError(error: unknown, where: string): EtlError {
  if (error instanceof EtlError) return error;
  const base = error instanceof Error ? error.message : String(error);
  const detail =
    typeof (error as PgLikeError | null)?.detail === 'string'
      ? ` (${String((error as PgLikeError).detail)})`
      : '';
  const state = sqlState(error);
  const message = withoutRowData(`${where}: ${base}${detail}${state ? ` [SQLSTATE ${state}]` : ''}`);
  if (state === undefined) {
    // No SQLSTATE: a socket-level failure (refused, reset, timeout), worth another attempt.
    return new EtlError('DESTINATION_WRITE', message, { cause: error, retryable: true });
  }
  const cls = state.slice(0, 2);
  if (state === '57014') return new EtlError('CANCELLED', message, { cause: error });
  if (cls === '28' || state === '42501')
    return new EtlError('DESTINATION_PERMISSION', message, { cause: error });
  if (
    cls === '08' ||
    cls === '53' ||
    cls === '57' ||
    state === '40001' ||
    state === '40P01' ||
    state === '55P03'
  ) {
    return new EtlError('DESTINATION_WRITE', message, { cause: error, retryable: true });
  }
  return new EtlError('DESTINATION_WRITE', message, { cause: error, retryable: false });
}
