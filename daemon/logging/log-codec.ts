/**
 * How a LogRecord becomes text. One JSON object per line is the format of the per-pipeline files
 * and of `--log-format json`, so readers can filter by run, level and time exactly; the text
 * layout is for humans reading journald. The line format and its reading side live in
 * shared/logs/log-record.ts, which etlctl also reads the files with when the daemon is down.
 *
 * Every string is redacted before it is encoded.
 */
import type { LogLine } from '../../shared/protocol.js';
import { LOG_PRIORITY, toLogLine, type EncodedRecord } from '../../shared/logs/log-record.js';
import type { LogRecord } from './logger.js';
import { redact, redactField } from './redact.js';

export function encodeRecord(record: LogRecord): EncodedRecord {
  const fields: Record<string, string | number | boolean | null> = {};
  let any = false;
  for (const [key, value] of Object.entries(record.fields)) {
    fields[key] = redactField(key, value);
    any = true;
  }
  return {
    ts: record.ts.toISOString(),
    level: record.level,
    priority: LOG_PRIORITY[record.level],
    pipeline: record.pipeline,
    run_id: record.runId,
    message: redact(record.message),
    ...(any ? { fields } : {}),
  };
}

/** One JSON line, newline included. */
export function recordToJsonLine(record: LogRecord): string {
  return `${JSON.stringify(encodeRecord(record))}\n`;
}

/**
 * A live record as clients see it: redacted, fields appended — identical to what `readLogs`
 * returns for the same record from the files, so a client can de-duplicate the two.
 */
export function recordToLogLine(record: LogRecord): LogLine {
  return toLogLine(encodeRecord(record));
}
