/**
 * Per-pipeline log files: `<logDir>/<pipeline>/output.log` (every line of the pipeline)
 * and `error.log` (error and warning lines); daemon lines without a pipeline go to
 * `<logDir>/etld/`. One JSON object per line ({@link recordToJsonLine}), so `etlctl logs` filters
 * by run, level and time exactly and can still be read with `zcat … | jq`.
 *
 * Rotation (see RotatingFile): by size and age, rotated generations gzip-compressed one at a time
 * in the background, at most `keep` generations per file, and all files under `logDir` together
 * kept under `totalMaxSize` by deleting the oldest generations first (pm2-logrotate filled disks
 * because nothing bounded the total: keymetrics/pm2-logrotate#165).
 *
 * Failure policy: this sink never throws. When a file cannot be written (unwritable directory,
 * ENOSPC…) its lines are dropped — they still reach stdout through the journal sink — and exactly
 * one error line goes to `fallback` for the whole episode; writes are retried every `retryMs` and a
 * notice with the number of lines not written closes the episode.
 */
import { createReadStream, createWriteStream, readdirSync, renameSync, statSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';
import { pipeline as pump } from 'node:stream/promises';
import { createGzip } from 'node:zlib';
import { LOG_PRIORITY, type LogLevel } from '../../shared/logs/log-record.js';
import type { LogRecord, LogSink } from './logger.js';
import { recordToJsonLine } from './log-codec.js';
import { RotatingFile, type RotatedGeneration } from './rotating-file.js';
import { DAEMON_LOG_DIR, ERROR_LOG, OUTPUT_LOG, SAFE_LOG_DIR_NAME } from '../../shared/logs/log-files.js';

export interface PipelineFileSinkOptions {
  readonly logDir: string;
  readonly maxSize: number;
  readonly maxAgeMs: number;
  /** Rotated generations kept per file. */
  readonly keep: number;
  /** Bound on all files under logDir (live and rotated). */
  readonly totalMaxSize: number;
  readonly compress: boolean;
  /** Where the one error line of a failure episode goes (the journal sink on stdout). */
  readonly fallback: LogSink;
  readonly level?: LogLevel;
  /** Injectable clock (ms since epoch) for age-based rotation and retries. */
  readonly now?: () => number;
  /** How long a failed file waits before the next write attempt. Default 30 s. */
  readonly retryMs?: number;
}

interface Family {
  readonly file: RotatingFile;
  failedAt: number | null;
}

/** Queued bytes above which a write flushes at once instead of waiting for the next turn. */
const MAX_PENDING_BYTES = 1024 * 1024;

export class PipelineFileSink implements LogSink {
  readonly #options: PipelineFileSinkOptions;
  readonly #now: () => number;
  readonly #retryMs: number;
  readonly #minPriority: number;
  readonly #families = new Map<string, Family>();
  readonly #dirty = new Set<Family>();
  readonly #degraded = new Set<Family>();
  #dropped = 0;
  #flushTimer: NodeJS.Immediate | null = null;
  #compressions: Promise<void> = Promise.resolve();
  #compressionFailing = false;
  #closed = false;

  constructor(options: PipelineFileSinkOptions) {
    this.#options = options;
    this.#now = options.now ?? Date.now;
    this.#retryMs = options.retryMs ?? 30_000;
    this.#minPriority = LOG_PRIORITY[options.level ?? 'debug'];
    this.#discover();
  }

  write(record: LogRecord): void {
    if (this.#closed || LOG_PRIORITY[record.level] > this.#minPriority) return;
    try {
      const dir =
        record.pipeline !== null && SAFE_LOG_DIR_NAME.test(record.pipeline)
          ? record.pipeline
          : DAEMON_LOG_DIR;
      const line = recordToJsonLine(record);
      this.#enqueue(this.#family(dir, OUTPUT_LOG), line);
      if (record.level === 'error' || record.level === 'warning')
        this.#enqueue(this.#family(dir, ERROR_LOG), line);
    } catch (error) {
      this.#report(`log files unavailable: ${describe(error)}`);
    }
  }

  /** Writes everything queued and waits for background compression. Never rejects. */
  async flush(): Promise<void> {
    this.#flushAll();
    await this.#compressions;
  }

  async close(): Promise<void> {
    await this.flush();
    this.#closed = true;
    if (this.#flushTimer) clearImmediate(this.#flushTimer);
    for (const family of this.#families.values()) family.file.close();
  }

  #discover(): void {
    let dirs: string[];
    try {
      dirs = readdirSync(this.#options.logDir, { withFileTypes: true })
        .filter((entry) => entry.isDirectory() && SAFE_LOG_DIR_NAME.test(entry.name))
        .map((entry) => entry.name);
    } catch {
      return; // created on first write
    }
    for (const dir of dirs) {
      for (const base of [OUTPUT_LOG, ERROR_LOG]) {
        const family = this.#family(dir, base);
        if (this.#options.compress)
          for (const g of family.file.generations) if (!g.compressed) this.#compressLater(g);
      }
    }
    this.#enforceBounds();
  }

  #family(dir: string, base: string): Family {
    const key = `${dir}/${base}`;
    let family = this.#families.get(key);
    if (!family) {
      const file = new RotatingFile(
        join(this.#options.logDir, dir),
        base,
        { maxSize: this.#options.maxSize, maxAgeMs: this.#options.maxAgeMs },
        this.#now,
        (_file, generation) => this.#rotated(generation),
      );
      family = { file, failedAt: null };
      this.#families.set(key, family);
    }
    return family;
  }

  #enqueue(family: Family, line: string): void {
    family.file.enqueue(line);
    this.#dirty.add(family);
    if (family.file.pendingBytes > MAX_PENDING_BYTES) this.#flushAll();
    else this.#flushTimer ??= setImmediate(() => this.#flushAll());
  }

  #flushAll(): void {
    if (this.#flushTimer) {
      clearImmediate(this.#flushTimer);
      this.#flushTimer = null;
    }
    if (this.#dirty.size === 0) return;
    for (const family of [...this.#dirty]) this.#flushFamily(family);
    this.#enforceBounds();
  }

  #flushFamily(family: Family): void {
    this.#dirty.delete(family);
    if (family.failedAt !== null && this.#now() - family.failedAt < this.#retryMs) {
      this.#dropped += family.file.discardPending();
      return;
    }
    try {
      family.file.flushSync();
    } catch (error) {
      this.#dropped += family.file.discardPending();
      family.failedAt = this.#now();
      if (this.#degraded.size === 0) {
        this.#report(
          `log files unavailable: cannot write ${family.file.livePath} (${describe(error)}); ` +
            `lines continue on stdout only, retrying every ${Math.round(this.#retryMs / 1000)}s`,
        );
      }
      this.#degraded.add(family);
      return;
    }
    if (family.failedAt !== null) {
      family.failedAt = null;
      this.#degraded.delete(family);
      if (this.#degraded.size === 0) {
        this.#report(`log files writable again; ${this.#dropped} lines were not written to files`, 'notice');
        this.#dropped = 0;
      }
    }
  }

  #report(message: string, level: LogLevel = 'error'): void {
    try {
      this.#options.fallback.write({
        ts: new Date(this.#now()),
        level,
        message,
        pipeline: null,
        runId: null,
        fields: {},
      });
    } catch {
      // the fallback is the last resort; nothing is left to tell
    }
  }

  #rotated(generation: RotatedGeneration): void {
    if (this.#options.compress) this.#compressLater(generation);
  }

  /**
   * Deletes the oldest generations beyond `keep` per file, then beyond the total size bound. Runs
   * after every flush (a full recount: families × keep is small), so the bound holds whenever a
   * flush has finished, live files included.
   */
  #enforceBounds(): void {
    for (const family of this.#families.values()) {
      const live = family.file.generations;
      while (live.length > this.#options.keep) this.#delete(live, live[0] as RotatedGeneration);
    }
    let total = 0;
    for (const family of this.#families.values()) {
      total += family.file.size;
      for (const g of family.file.generations) total += g.size;
    }
    while (total > this.#options.totalMaxSize) {
      let oldest: { list: RotatedGeneration[]; g: RotatedGeneration } | undefined;
      for (const family of this.#families.values()) {
        const g = family.file.generations[0];
        if (g && (!oldest || g.rotatedAt < oldest.g.rotatedAt)) oldest = { list: family.file.generations, g };
      }
      if (!oldest) break; // only live files left; max_size bounds them
      total -= oldest.g.size;
      this.#delete(oldest.list, oldest.g);
    }
  }

  #delete(list: RotatedGeneration[], generation: RotatedGeneration): void {
    list.splice(list.indexOf(generation), 1);
    generation.deleted = true;
    try {
      unlinkSync(generation.path);
    } catch {
      // already gone
    }
  }

  #compressLater(generation: RotatedGeneration): void {
    this.#compressions = this.#compressions.then(
      () => this.#compress(generation),
      () => this.#compress(generation),
    );
  }

  async #compress(generation: RotatedGeneration): Promise<void> {
    if (generation.deleted || generation.compressed) return;
    const source = generation.path;
    const target = `${source}.gz`;
    const temp = `${target}.tmp`;
    try {
      await pump(createReadStream(source), createGzip(), createWriteStream(temp, { mode: 0o640 }));
      if (generation.deleted) {
        unlinkSync(temp);
        return;
      }
      // Rename before unlink: a reader that sees both prefers the complete .gz.
      renameSync(temp, target);
      unlinkSync(source);
      generation.path = target;
      generation.compressed = true;
      generation.size = statSync(target).size;
      this.#compressionFailing = false;
    } catch (error) {
      try {
        unlinkSync(temp);
      } catch {
        // never created
      }
      if (!this.#compressionFailing && !generation.deleted) {
        this.#compressionFailing = true;
        this.#report(
          `cannot compress rotated log ${source}: ${describe(error)}; it stays uncompressed`,
          'warning',
        );
      }
    }
  }
}

function describe(error: unknown): string {
  if (error instanceof Error) {
    const code = (error as NodeJS.ErrnoException).code;
    return code && !error.message.startsWith(code) ? `${code}: ${error.message}` : error.message;
  }
  return String(error);
}
