/**
 * Log lines straight into journald with structured fields, used when etld runs under systemd
 * (stdout is the journal stream). journald's native protocol: one datagram per entry to
 * /run/systemd/journal/socket, each field `KEY=value\n`, or for a value holding a newline
 * `KEY\n` + its length as 64-bit little-endian + the value + `\n` (systemd.journal-fields(7),
 * "Native Journal Protocol").
 *
 * Fields: MESSAGE, PRIORITY, SYSLOG_IDENTIFIER=etld, PIPELINE, RUN_ID (the run, `orders-12`),
 * ATTEMPT (`1`), ETLD_ATTEMPT_ID (`orders-12-1`), ETLD_CODE (an error code), and every other
 * structured field as ETLD_<KEY>. So `journalctl -u etld PIPELINE=orders` is one pipeline's lines
 * and `journalctl -u etld RUN_ID=orders-12` one run's, across its attempts.
 *
 * Decisions: text is redacted exactly as on stdout (encodeRecord); a message is cut at 48 KiB so
 * the datagram stays under the socket's send buffer; when journald cannot take an entry (socket
 * gone, buffer full) that entry goes to the fallback sink (priority-prefixed stdout, which is the
 * journal stream too) and the failure is reported once there.
 */
import type { DatagramSender } from '../observability/unix-datagram.js';
import { encodeRecord } from './log-codec.js';
import { LOG_PRIORITY, type LogLevel } from '../../shared/logs/log-record.js';
import type { LogRecord, LogSink } from './logger.js';

export const JOURNAL_SOCKET = '/run/systemd/journal/socket';
const MAX_MESSAGE_BYTES = 48 * 1024;

export interface JournaldSinkOptions {
  readonly sender: DatagramSender;
  /** Lines that journald could not take, and a note that it failed. */
  readonly fallback: LogSink;
  readonly socketPath?: string;
  readonly identifier?: string;
  readonly level?: LogLevel;
}

/**
 * Whether stdout is the journal: systemd sets JOURNAL_STREAM to the stream's `device:inode`, and
 * only a match with stdout's own means it is still that stream (a child's pipe that inherited the
 * variable is not). main.ts passes stdout's fstat.
 */
export function stdoutIsJournal(
  journalStream: string | undefined,
  stdout: { readonly dev: number; readonly ino: number } | null,
): boolean {
  return journalStream !== undefined && stdout !== null && journalStream === `${stdout.dev}:${stdout.ino}`;
}

/** `orders-12-3` of pipeline `orders` → run `orders-12`, attempt 3; a run id stays as is. */
export function splitRunId(
  pipeline: string | null,
  runId: string,
): { runId: string; attempt: number | null; attemptId: string | null } {
  const rest =
    pipeline !== null && runId.startsWith(`${pipeline}-`) ? runId.slice(pipeline.length + 1) : null;
  const match = rest === null ? /^(.*-\d+)-(\d+)$/.exec(runId) : /^(\d+)-(\d+)$/.exec(rest);
  if (!match?.[1] || !match[2]) return { runId, attempt: null, attemptId: null };
  const run = rest === null ? match[1] : `${pipeline}-${match[1]}`;
  return { runId: run, attempt: Number(match[2]), attemptId: runId };
}

/** A field name journald accepts: A-Z, 0-9, _; not starting with _ or a digit; at most 64 bytes. */
function fieldName(key: string): string {
  const name = `ETLD_${key.toUpperCase().replace(/[^A-Z0-9_]/g, '_')}`;
  return name.slice(0, 64);
}

function cut(text: string): string {
  if (Buffer.byteLength(text) <= MAX_MESSAGE_BYTES) return text;
  return `${Buffer.from(text)
    .subarray(0, MAX_MESSAGE_BYTES)
    .toString('utf8')
    .replace(/\uFFFD$/, '')}… (cut)`;
}

function field(name: string, value: string): Buffer {
  if (!value.includes('\n')) return Buffer.from(`${name}=${value}\n`, 'utf8');
  const data = Buffer.from(value, 'utf8');
  const length = Buffer.alloc(8);
  length.writeBigUInt64LE(BigInt(data.length));
  return Buffer.concat([Buffer.from(`${name}\n`, 'utf8'), length, data, Buffer.from('\n')]);
}

/** The datagram of one entry. */
export function journalEntry(record: LogRecord, identifier = 'etld'): Buffer {
  const encoded = encodeRecord(record);
  const parts: Buffer[] = [
    field('MESSAGE', cut(encoded.message)),
    field('PRIORITY', String(encoded.priority)),
    field('SYSLOG_IDENTIFIER', identifier),
  ];
  if (encoded.pipeline !== null) parts.push(field('PIPELINE', encoded.pipeline));
  if (encoded.run_id !== null) {
    const split = splitRunId(encoded.pipeline, encoded.run_id);
    parts.push(field('RUN_ID', split.runId));
    if (split.attempt !== null) parts.push(field('ATTEMPT', String(split.attempt)));
    if (split.attemptId !== null) parts.push(field('ETLD_ATTEMPT_ID', split.attemptId));
  }
  for (const [key, value] of Object.entries(encoded.fields ?? {})) {
    if (value === null) continue;
    parts.push(field(key === 'code' ? 'ETLD_CODE' : fieldName(key), cut(String(value))));
  }
  return Buffer.concat(parts);
}

export class JournaldSink implements LogSink {
  readonly #o: JournaldSinkOptions;
  readonly #socket: string;
  readonly #minPriority: number;
  #failing = false;

  constructor(options: JournaldSinkOptions) {
    this.#o = options;
    this.#socket = options.socketPath ?? JOURNAL_SOCKET;
    this.#minPriority = LOG_PRIORITY[options.level ?? 'debug'];
  }

  write(record: LogRecord): void {
    if (LOG_PRIORITY[record.level] > this.#minPriority) return;
    let entry: Buffer;
    try {
      entry = journalEntry(record, this.#o.identifier);
    } catch {
      this.#o.fallback.write(record);
      return;
    }
    this.#o.sender.send(this.#socket, entry).then(
      () => {
        if (!this.#failing) return;
        this.#failing = false;
        this.#o.fallback.write(note('notice', `journald accepts entries again on ${this.#socket}`));
      },
      (error: unknown) => {
        if (!this.#failing) {
          this.#failing = true;
          const reason = error instanceof Error ? error.message : String(error);
          this.#o.fallback.write(
            note(
              'warning',
              `journald socket ${this.#socket} refused an entry (${reason}); writing to stdout`,
            ),
          );
        }
        this.#o.fallback.write(record);
      },
    );
  }
}

function note(level: LogLevel, message: string): LogRecord {
  return { ts: new Date(), level, message, pipeline: null, runId: null, fields: {} };
}
