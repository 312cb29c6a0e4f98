/**
 * The filter of `etlctl logs` applied to live records: the same options as the file reader
 * (shared/logs/log-reader.ts), so a record matches live exactly when its line would match in the files.
 */
import type { LogLine } from '../../shared/protocol.js';
import { compileLogQuery, type LogQuery } from '../../shared/logs/log-reader.js';
import type { LogRecord } from './logger.js';
import { encodeRecord } from './log-codec.js';
import { toLogLine } from '../../shared/logs/log-record.js';

/**
 * Turns a live record into the client's LogLine when it matches the query, else undefined.
 * Throws EtlError USAGE for an invalid `since` or `grep` (check before subscribing).
 */
export function createLogFilter(query: Omit<LogQuery, 'lines'>): (record: LogRecord) => LogLine | undefined {
  const matches = compileLogQuery(query);
  return (record) => {
    const encoded = encodeRecord(record);
    const line = toLogLine(encoded);
    return matches(encoded, line) ? line : undefined;
  };
}
