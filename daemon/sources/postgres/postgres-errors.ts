/**
 * PostgreSQL failures → EtlError codes, by SQLSTATE class (postgresql.org/docs/15/errcodes-appendix.html)
 * or Node socket error code. Messages name the source and carry the server's text, which never
 * contains the password.
 */
import { withoutRowData } from '../../logging/row-data.js';
import { EtlError } from '../../../shared/errors.js';

/** What `pg` errors look like to us (DatabaseError and Node's system errors). */
interface PgErrorLike {
  readonly code?: unknown;
  readonly message?: unknown;
  readonly detail?: unknown;
  readonly hint?: unknown;
}

const SOCKET_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EPIPE',
  'ENOENT',
]);

/** Marker the adapter puts into the error text of its SQL-side value checks. */
export const DATA_CHECK_MARKER = 'etld:';

export function mapPostgresError(error: unknown, what: string): EtlError {
  if (error instanceof EtlError) return error;
  const e = (typeof error === 'object' && error !== null ? error : {}) as PgErrorLike;
  const code = typeof e.code === 'string' ? e.code : '';
  const raw = typeof e.message === 'string' ? e.message : String(error);
  const detail = typeof e.detail === 'string' && e.detail.length > 0 ? ` (${e.detail})` : '';
  const message = withoutRowData(`${what}: ${raw}${detail}`);
  const make = (etlCode: ConstructorParameters<typeof EtlError>[0], retryable?: boolean): EtlError =>
    new EtlError(etlCode, message, retryable === undefined ? { cause: error } : { cause: error, retryable });

  const markerAt = raw.indexOf(DATA_CHECK_MARKER);
  if (markerAt >= 0) {
    const inner = raw
      .slice(markerAt + DATA_CHECK_MARKER.length)
      .replace(/"$/, '')
      .trim();
    return new EtlError('SOURCE_DATA', `${what}: ${inner}`, { cause: error });
  }
  if (
    SOCKET_CODES.has(code) ||
    /Connection terminated|connection timeout|timeout expired|ECONNRESET/i.test(raw)
  ) {
    return make('SOURCE_CONNECTION', true);
  }
  if (code === '57014')
    return /statement timeout/i.test(raw) ? make('SOURCE_TIMEOUT', true) : make('CANCELLED', false);
  if (code === '42501') return make('SOURCE_PERMISSION', false);
  if (code === '28000' || code === '28P01') return make('SOURCE_PERMISSION', false);
  if (code === '3D000') return make('SOURCE_CONNECTION', false);
  const sqlClass = code.slice(0, 2);
  switch (sqlClass) {
    case '08': // connection exception
    case '57': // operator intervention: admin shutdown, cannot connect now
    case '53': // insufficient resources, too many connections
      return make('SOURCE_CONNECTION', true);
    case '40': // serialization failure, deadlock
    case '72': // snapshot too old
      return make('SOURCE_QUERY', true);
    case '55': // lock not available, object in use
      return code === '55P03' ? make('SOURCE_TIMEOUT', true) : make('SOURCE_QUERY', false);
    case '22': // data exception
      return make('SOURCE_DATA', false);
    case '42': // syntax error or access rule violation: undefined table/column
    case '0A': // feature not supported
    case '25': // invalid transaction state (e.g. snapshot import refused)
      return make('SOURCE_QUERY', false);
    default:
      return make(code === '' ? 'SOURCE_CONNECTION' : 'SOURCE_QUERY', code === '');
  }
}
