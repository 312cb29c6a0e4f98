/**
 * SQL Server / tedious failures → EtlError codes: tedious codes (ESOCKET, ELOGIN, ETIMEOUT,
 * ECANCEL…) and server error numbers (learn.microsoft.com/sql/relational-databases/errors-events/
 * database-engine-events-and-errors).
 */
import { EtlError, type ErrorCode } from '../../../shared/errors.js';

interface TediousErrorLike {
  readonly code?: unknown;
  readonly number?: unknown;
  readonly message?: unknown;
}

const PERMISSION = new Set([229, 230, 262, 297, 300, 916, 18456]);
const RETRYABLE_QUERY = new Set([1205, 3960, 3961, 8645, 701]);
const CONNECTION = new Set([233, 10053, 10054, 10060, 10061, 40197, 40501, 40613, 49918, 49919, 49920]);
const TIMEOUT = new Set([-2, 1222]);

export function mapSqlServerError(error: unknown, what: string): EtlError {
  if (error instanceof EtlError) return error;
  const e = (typeof error === 'object' && error !== null ? error : {}) as TediousErrorLike;
  const code = typeof e.code === 'string' ? e.code : '';
  const number = typeof e.number === 'number' ? e.number : undefined;
  const raw = typeof e.message === 'string' ? e.message : String(error);
  const make = (etlCode: ErrorCode, retryable: boolean): EtlError =>
    new EtlError(etlCode, `${what}: ${raw}`, { cause: error, retryable });
  if (code === 'ECANCEL') return make('CANCELLED', false);
  if (code === 'ELOGIN') return make('SOURCE_PERMISSION', false);
  if (code === 'ETIMEOUT') return make(/connect/i.test(raw) ? 'SOURCE_CONNECTION' : 'SOURCE_TIMEOUT', true);
  if (
    code === 'ESOCKET' ||
    code === 'ECONNCLOSED' ||
    code === 'EINSTLOOKUP' ||
    code === 'ECONNRESET' ||
    code === 'ECONNREFUSED'
  ) {
    return make('SOURCE_CONNECTION', true);
  }
  if (number !== undefined) {
    if (number === 4060) return make('SOURCE_CONNECTION', false);
    if (PERMISSION.has(number)) return make('SOURCE_PERMISSION', false);
    if (TIMEOUT.has(number)) return make('SOURCE_TIMEOUT', true);
    if (CONNECTION.has(number)) return make('SOURCE_CONNECTION', true);
    if (RETRYABLE_QUERY.has(number)) return make('SOURCE_QUERY', true);
    if (number >= 8114 && number <= 8115) return make('SOURCE_DATA', false);
    return make('SOURCE_QUERY', false);
  }
  if (code === 'EREQUEST') return make('SOURCE_QUERY', false);
  return make('SOURCE_CONNECTION', true);
}
