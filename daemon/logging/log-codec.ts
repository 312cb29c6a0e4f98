/**
 * How a LogRecord becomes text. One JSON object per line is the format of the per-pipeline files
 * and of `--log-format json`, so the reader can filter by run, level and time exactly; the text
 * layout is for humans reading journald.
 *
 * JSON line: {"ts","level","priority","pipeline","run_id","message","fields"} — `fields` is omitted
 * when empty. Every string is redacted before it is encoded.
 */
import type { LogLine } from '../../shared/protocol.js';
import { LOG_PRIORITY, type LogLevel, type LogRecord } from './logger.js';
import { redact, redactField } from './redact.js';

export interface EncodedRecord {
  readonly ts: string;
  readonly level: LogLevel;
  readonly priority: number;
  readonly pipeline: string | null;
  readonly run_id: string | null;
  readonly message: string;
  readonly fields?: Record<string, string | number | boolean | null>;
}

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

const LEVELS: ReadonlySet<string> = new Set(Object.keys(LOG_PRIORITY));

/** Parses a line written by {@link recordToJsonLine}; anything else (a torn line) gives undefined. */
export function parseJsonLine(line: string): EncodedRecord | undefined {
  if (!line.startsWith('{')) return undefined;
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    return undefined;
  }
  if (typeof value !== 'object' || value === null) return undefined;
  const v = value as Record<string, unknown>;
  if (
    typeof v.ts !== 'string' ||
    typeof v.message !== 'string' ||
    typeof v.level !== 'string' ||
    !LEVELS.has(v.level)
  ) {
    return undefined;
  }
  const fields =
    typeof v.fields === 'object' && v.fields !== null
      ? (v.fields as Record<string, string | number | boolean | null>)
      : undefined;
  return {
    ts: v.ts,
    level: v.level as LogLevel,
    priority: LOG_PRIORITY[v.level as LogLevel],
    pipeline: typeof v.pipeline === 'string' ? v.pipeline : null,
    run_id: typeof v.run_id === 'string' ? v.run_id : null,
    message: v.message,
    ...(fields ? { fields } : {}),
  };
}

function formatValue(value: string | number | boolean | null): string {
  if (value === null) return 'null';
  if (typeof value !== 'string') return String(value);
  return /^[^\s"=]+$/.test(value) ? value : JSON.stringify(value);
}

/** `key=value key2="two words"` (logfmt), or '' without fields. */
export function formatFields(
  fields: Readonly<Record<string, string | number | boolean | null>> | undefined,
): string {
  if (!fields) return '';
  return Object.entries(fields)
    .map(([key, value]) => `${key}=${formatValue(value)}`)
    .join(' ');
}

/** Keeps one event on one line: journald and the files split on newlines. */
export function singleLine(text: string): string {
  return text.replace(/\r?\n/g, '\\n');
}

/** The message a client shows: the text plus its fields in logfmt, so nothing is hidden. */
function displayMessage(encoded: EncodedRecord): string {
  const fields = formatFields(encoded.fields);
  return singleLine(fields === '' ? encoded.message : `${encoded.message} ${fields}`);
}

export function toLogLine(encoded: EncodedRecord): LogLine {
  return {
    ts: encoded.ts,
    level: encoded.level,
    pipeline: encoded.pipeline,
    run_id: encoded.run_id,
    message: displayMessage(encoded),
  };
}

/**
 * A live record as clients see it: redacted, fields appended — identical to what `readLogs`
 * returns for the same record from the files, so a client can de-duplicate the two.
 */
export function recordToLogLine(record: LogRecord): LogLine {
  return toLogLine(encodeRecord(record));
}
