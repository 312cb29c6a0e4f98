/**
 * MySQL/MariaDB failures → EtlError codes, by server errno (dev.mysql.com/doc/mysql-errors/8.0/en/
 * server-error-reference.html, mariadb.com/kb/en/mariadb-error-codes/) or client/socket code.
 */
import { withoutRowData } from '../../logging/row-data.js';
import { EtlError, type ErrorCode } from '../../../shared/errors.js';

interface MysqlErrorLike {
  readonly code?: unknown;
  readonly errno?: unknown;
  readonly message?: unknown;
  readonly fatal?: unknown;
}

const PERMISSION = new Set([1044, 1045, 1142, 1143, 1227, 1370, 1698, 3118]);
const QUERY = new Set([1046, 1051, 1054, 1060, 1064, 1109, 1146, 1149, 1248, 1305, 1356]);
const TIMEOUT = new Set([1205, 1907, 1969, 3024]);
const RETRYABLE_QUERY = new Set([1213, 1290, 1053]);
const CONNECTION = new Set([
  1040, 1042, 1043, 1081, 1129, 1130, 1152, 1158, 1159, 1160, 1161, 2002, 2003, 2005, 2006, 2013,
]);
const SOCKET_CODES =
  /^(?:ECONNREFUSED|ECONNRESET|ETIMEDOUT|EHOSTUNREACH|ENETUNREACH|ENOTFOUND|EAI_AGAIN|EPIPE|ENOENT|PROTOCOL_CONNECTION_LOST|PROTOCOL_SEQUENCE_TIMEOUT|PROTOCOL_ENQUEUE_AFTER_FATAL_ERROR|PROTOCOL_ENQUEUE_AFTER_QUIT)$/;

/** ER_QUERY_INTERRUPTED: the answer to KILL QUERY. */
export const QUERY_INTERRUPTED = 1317;

export function mysqlErrno(error: unknown): number | undefined {
  const errno = (error as MysqlErrorLike | null)?.errno;
  return typeof errno === 'number' ? errno : undefined;
}

export function mapMysqlError(error: unknown, what: string): EtlError {
  if (error instanceof EtlError) return error;
  const e = (typeof error === 'object' && error !== null ? error : {}) as MysqlErrorLike;
  const errno = typeof e.errno === 'number' ? e.errno : undefined;
  const code = typeof e.code === 'string' ? e.code : '';
  const raw = withoutRowData(
    typeof e.message === 'string' && e.message.length > 0 ? e.message : code || String(error),
  );
  const make = (etlCode: ErrorCode, retryable: boolean): EtlError =>
    new EtlError(etlCode, `${what}: ${raw}`, { cause: error, retryable });
  if (SOCKET_CODES.test(code) || /connect ETIMEDOUT|Connection lost|closed state/i.test(raw))
    return make('SOURCE_CONNECTION', true);
  if (errno === undefined) return make('SOURCE_CONNECTION', e.fatal === true);
  if (errno === QUERY_INTERRUPTED) return make('CANCELLED', false);
  if (errno === 1049) return make('SOURCE_CONNECTION', false);
  if (PERMISSION.has(errno)) return make('SOURCE_PERMISSION', false);
  if (TIMEOUT.has(errno)) return make('SOURCE_TIMEOUT', true);
  if (CONNECTION.has(errno)) return make('SOURCE_CONNECTION', true);
  if (RETRYABLE_QUERY.has(errno)) return make('SOURCE_QUERY', true);
  if (QUERY.has(errno)) return make('SOURCE_QUERY', false);
  return make('SOURCE_QUERY', false);
}
