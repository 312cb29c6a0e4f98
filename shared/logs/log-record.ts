/**
 * A log record as the daemon writes it to its per-pipeline files, and as readers (the daemon's
 * `logs` method, `etlctl logs` with the daemon down) turn it back into the LogLine clients show.
 *
 * JSON line: {"ts","level","priority","pipeline","run_id","message","fields"} — `fields` is omitted
 * when empty. The daemon redacts every string before it is encoded (daemon/logging/log-codec.ts).
 */
import type { LogLine } from '../protocol.js';

/** journald priorities: error=3, warning=4, notice=5, info=6, debug=7. */
export type LogLevel = 'error' | 'warning' | 'notice' | 'info' | 'debug';

export const LOG_PRIORITY: Record<LogLevel, number> = { error: 3, warning: 4, notice: 5, info: 6, debug: 7 };

export interface EncodedRecord {
  readonly ts: string;
  readonly level: LogLevel;
  readonly priority: number;
  readonly pipeline: string | null;
  readonly run_id: string | null;
  readonly message: string;
  readonly fields?: Record<string, string | number | boolean | null>;
}

const LEVELS: ReadonlySet<string> = new Set(Object.keys(LOG_PRIORITY));

/** Parses one line of a log file; anything else (a torn line) gives undefined. */
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
