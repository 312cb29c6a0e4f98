/**
 * The daemon's stdout, written for journald. In text format each line starts with the sd-daemon
 * priority prefix (`<3>` error … `<7>` debug, see sd-daemon(3)), which journald strips and stores as
 * PRIORITY, so `journalctl -u etld -p err` filters correctly. Layout after the prefix:
 *
 *   <6>pipeline=orders run=orders-12-1 Run started attempt=1 trigger=schedule
 *
 * (`pipeline=` and `run=` only where they apply; journald adds its own timestamp.)
 * JSON format writes {@link encodeRecord}'s object, one per line, without prefix.
 */
import type { Writable } from 'node:stream';
import { formatFields, LOG_PRIORITY, singleLine, type LogLevel } from '../../shared/logs/log-record.js';
import type { LogRecord, LogSink } from './logger.js';
import { encodeRecord, recordToJsonLine } from './log-codec.js';

export type LogFormat = 'text' | 'json';

export interface JournalSinkOptions {
  readonly format?: LogFormat;
  /** Lines less important than this are not written (default: everything). */
  readonly level?: LogLevel;
  /**
   * Bytes queued in the stream above which lines are dropped and counted instead of buffered
   * without bound (a stuck journal or a paused pipe must not grow the heap). Default 8 MiB.
   */
  readonly maxBufferedBytes?: number;
}

function formatJournalText(record: LogRecord): string {
  const encoded = encodeRecord(record);
  const parts: string[] = [];
  if (encoded.pipeline !== null) parts.push(`pipeline=${encoded.pipeline}`);
  if (encoded.run_id !== null) parts.push(`run=${encoded.run_id}`);
  parts.push(encoded.message);
  const fields = formatFields(encoded.fields);
  if (fields !== '') parts.push(fields);
  return `<${encoded.priority}>${singleLine(parts.join(' '))}\n`;
}

export class JournalSink implements LogSink {
  readonly #out: Writable;
  readonly #format: LogFormat;
  readonly #minPriority: number;
  readonly #maxBuffered: number;
  #dropped = 0;
  #broken = false;

  constructor(out: Writable, options: JournalSinkOptions = {}) {
    this.#out = out;
    this.#format = options.format ?? 'text';
    this.#minPriority = LOG_PRIORITY[options.level ?? 'debug'];
    this.#maxBuffered = options.maxBufferedBytes ?? 8 * 1024 * 1024;
    // An EPIPE on stdout (journald restarted, pipe closed) must not become an uncaught exception.
    out.on('error', () => {
      this.#broken = true;
    });
  }

  /** Lines dropped because the stream was not draining. */
  get dropped(): number {
    return this.#dropped;
  }

  write(record: LogRecord): void {
    if (this.#broken || LOG_PRIORITY[record.level] > this.#minPriority) return;
    try {
      if (this.#out.writableLength > this.#maxBuffered) {
        this.#dropped += 1;
        return;
      }
      if (this.#dropped > 0) {
        const dropped = this.#dropped;
        this.#dropped = 0;
        this.#out.write(
          this.#render({
            ts: new Date(),
            level: 'warning',
            message: `${dropped} log lines dropped: stdout was not draining`,
            pipeline: null,
            runId: null,
            fields: {},
          }),
        );
      }
      this.#out.write(this.#render(record));
    } catch {
      this.#broken = true;
    }
  }

  #render(record: LogRecord): string {
    return this.#format === 'json' ? recordToJsonLine(record) : formatJournalText(record);
  }
}
