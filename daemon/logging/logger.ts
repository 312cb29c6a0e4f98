/**
 * The daemon's logging contract. Every line has a level (journald priorities: error=3, warning=4,
 * notice=5, info=6, debug=7), a message, and the pipeline / run it belongs to where that applies.
 * Sinks (journald-friendly stdout, per-pipeline files, the socket's `log` events) subscribe to a
 * Logger; nothing else writes to stdout.
 */
import { LOG_PRIORITY, type LogLevel } from '../../shared/logs/log-record.js';

export interface LogFields {
  readonly pipeline?: string;
  readonly runId?: string;
  /** Extra key/values for JSON output (never secrets). */
  readonly [key: string]: string | number | boolean | null | undefined;
}

export interface LogRecord {
  readonly ts: Date;
  readonly level: LogLevel;
  readonly message: string;
  readonly pipeline: string | null;
  readonly runId: string | null;
  readonly fields: Readonly<Record<string, string | number | boolean | null>>;
}

export interface Logger {
  log(level: LogLevel, message: string, fields?: LogFields): void;
  error(message: string, fields?: LogFields): void;
  warning(message: string, fields?: LogFields): void;
  notice(message: string, fields?: LogFields): void;
  info(message: string, fields?: LogFields): void;
  debug(message: string, fields?: LogFields): void;
  /** A logger that adds `fields` to every line (e.g. `{pipeline, runId}`). */
  child(fields: LogFields): Logger;
}

export interface LogSink {
  write(record: LogRecord): void;
}

/** Fans log records out to sinks. Sinks must not throw; a failing sink is the sink's problem. */
export class FanoutLogger implements Logger {
  readonly #sinks: LogSink[];
  readonly #fields: LogFields;
  readonly #minPriority: number;

  constructor(sinks: LogSink[], options: { fields?: LogFields; level?: LogLevel } = {}) {
    this.#sinks = sinks;
    this.#fields = options.fields ?? {};
    this.#minPriority = LOG_PRIORITY[options.level ?? 'debug'];
  }

  addSink(sink: LogSink): void {
    this.#sinks.push(sink);
  }

  log(level: LogLevel, message: string, fields: LogFields = {}): void {
    if (LOG_PRIORITY[level] > this.#minPriority) return;
    const merged: Record<string, string | number | boolean | null> = {};
    for (const [key, value] of Object.entries({ ...this.#fields, ...fields })) {
      if (value !== undefined && key !== 'pipeline' && key !== 'runId') merged[key] = value;
    }
    const record: LogRecord = {
      ts: new Date(),
      level,
      message,
      pipeline: fields.pipeline ?? this.#fields.pipeline ?? null,
      runId: fields.runId ?? this.#fields.runId ?? null,
      fields: merged,
    };
    for (const sink of this.#sinks) sink.write(record);
  }

  error(message: string, fields?: LogFields): void {
    this.log('error', message, fields);
  }
  warning(message: string, fields?: LogFields): void {
    this.log('warning', message, fields);
  }
  notice(message: string, fields?: LogFields): void {
    this.log('notice', message, fields);
  }
  info(message: string, fields?: LogFields): void {
    this.log('info', message, fields);
  }
  debug(message: string, fields?: LogFields): void {
    this.log('debug', message, fields);
  }

  child(fields: LogFields): Logger {
    const bound: LogFields = { ...this.#fields, ...fields };
    const log = (level: LogLevel, message: string, extra?: LogFields): void =>
      this.log(level, message, { ...bound, ...extra });
    return {
      log,
      error: (message, extra) => log('error', message, extra),
      warning: (message, extra) => log('warning', message, extra),
      notice: (message, extra) => log('notice', message, extra),
      info: (message, extra) => log('info', message, extra),
      debug: (message, extra) => log('debug', message, extra),
      child: (more) => this.child({ ...bound, ...more }),
    };
  }
}

/** A logger that drops everything (tests and one-shot tools). */
export const silentLogger: Logger = new FanoutLogger([]);
