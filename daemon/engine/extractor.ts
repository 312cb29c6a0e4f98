/**
 * Parallel extraction: every part (shard × chunk) is one SELECT whose staging CSV goes to the
 * part's consumers — statements of the staging database that type, transform and hand the rows on
 * (to destination files, or to a staging table) while the part is extracted, through one FIFO per
 * consumer (the bytes are copied to each, never parsed here). Consumers hold a libuv pool thread
 * each while they run, so at most `consumerSlots` run at once; a part that finds no free slots is
 * spooled to a file instead, which its consumers read once slots free up. At most `parallelism`
 * parts are extracted at once across the run, each holding a governor slot on its source host for
 * the duration of its query. The first failure aborts the other parts (their queries are
 * cancelled server-side) and is what the run reports; every part has settled (files and pipes
 * closed, statements finished) before this returns or throws.
 */
import { createWriteStream, type WriteStream } from 'node:fs';
import type { Socket } from 'node:net';
import { Writable } from 'node:stream';
import { cancelledError, EtlError, toEtlError } from '../../shared/errors.js';
import type { ColumnSchema } from '../../shared/types.js';
import type { ExtractProgress, ReadSession } from '../sources/source.js';
import type { SourceGovernor } from './engine.js';
import { makeFifo, openFifoWriter } from './fifo-writer.js';
import type { ProgressTracker } from './progress-tracker.js';

/** A statement reading a part's staging CSV. */
export interface PartConsumer {
  /** Names its pipe (`<spool path>.<name>`). */
  readonly name: string;
  /** Reads the CSV at `path` (a FIFO being written, or a spooled file); resolves with the rows it took. */
  run(path: string): Promise<number>;
}

export interface ExtractTask {
  readonly id: string;
  readonly shard: string;
  readonly hostKey: string;
  readonly sql: string;
  /** The columns the SELECT returns, in order (the source columns, then any flag columns). */
  readonly columns: readonly ColumnSchema[];
  readonly spoolPath: string;
  readonly consumers: readonly PartConsumer[];
}

export interface ExtractOptions {
  readonly parallelism: number;
  readonly governor: SourceGovernor;
  readonly signal: AbortSignal;
  readonly tracker: ProgressTracker;
  /** Called while a part waits for a governor slot. */
  readonly onWait?: () => void;
  /**
   * Consumers running at once. Each holds a libuv pool thread while it waits for data, so this
   * stays below the pool size: file writes and the destination's own work need the rest.
   */
  readonly consumerSlots: number;
}

export interface PartTotals extends ExtractProgress {
  /** Rows each consumer took, in the task's consumer order. */
  readonly consumed: readonly number[];
}

async function closeSink(sink: WriteStream | Writable, failed: boolean): Promise<void> {
  if (sink.closed) return;
  await new Promise<void>((resolve) => {
    sink.once('close', () => resolve());
    sink.once('error', () => resolve());
    if (failed) sink.destroy();
    else if (!sink.writableEnded) sink.end();
  });
}

/**
 * When a streamed part fails on both ends, which failure is the cause. A source connection lost
 * before the consumer failed is: it cut the CSV short, and the consumer's failure (a malformed or
 * unconvertible last row) is only its echo, so it must not become a SOURCE_DATA that is never
 * retried (a real data failure shows again on the retry). Otherwise a failure of the data itself
 * (a value that does not convert or cast, a NULL for a NOT NULL column) is; else a lost source
 * connection is; else the consumer's failure is.
 */
function causeOf(stageError: unknown, extractError: unknown, sourceFailedFirst: boolean): unknown {
  if (stageError === undefined) return extractError;
  const source = toEtlError(extractError, 'SOURCE_QUERY');
  if (sourceFailedFirst && CONNECTION_FAILURES.has(source.code)) return source;
  const stage = toEtlError(stageError, 'STAGING');
  if (DATA_FAILURES.has(stage.code) && !/CSV Error/i.test(stage.message)) return stage;
  if (CONNECTION_FAILURES.has(source.code)) return source;
  return stage;
}

const DATA_FAILURES: ReadonlySet<string> = new Set(['SOURCE_DATA', 'TRANSFORM_INVALID', 'SCHEMA_MISMATCH']);
const CONNECTION_FAILURES: ReadonlySet<string> = new Set(['SOURCE_CONNECTION', 'SOURCE_TIMEOUT']);

/** Runs every task; resolves with each task's totals by id. */
export async function extractAll(
  tasks: readonly ExtractTask[],
  sessions: ReadonlyMap<string, ReadSession>,
  options: ExtractOptions,
): Promise<Map<string, PartTotals>> {
  const inner = new AbortController();
  const forward = (): void => inner.abort(options.signal.reason);
  if (options.signal.aborted) forward();
  else options.signal.addEventListener('abort', forward, { once: true });
  const results = new Map<string, PartTotals>();
  const queue = [...tasks];
  let firstError: EtlError | undefined;
  const slots = new Slots(options.consumerSlots);

  const spoolTask = async (task: ExtractTask, session: ReadSession): Promise<ExtractProgress> => {
    const sink = createWriteStream(task.spoolPath);
    let ok = false;
    try {
      const totals = await session.extract(task.sql, task.columns, sink, inner.signal, (p) =>
        options.tracker.update(task.id, p.rows, p.bytes),
      );
      await closeSink(sink, false);
      if (sink.errored)
        throw new EtlError('INTERNAL', `cannot write spool file ${task.spoolPath}: ${sink.errored.message}`);
      ok = true;
      return totals;
    } finally {
      if (!ok) await closeSink(sink, true);
    }
  };

  /** Runs the consumers over a spooled file, all at once (they only read it). */
  const consumeSpool = async (task: ExtractTask): Promise<number[]> => {
    const settled = await Promise.allSettled(task.consumers.map((c) => c.run(task.spoolPath)));
    const failed = settled.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed !== undefined) throw failed.reason;
    return settled.map((r) => (r.status === 'fulfilled' ? r.value : 0));
  };

  const streamTask = async (task: ExtractTask, session: ReadSession): Promise<PartTotals> => {
    const part = new AbortController();
    const forwardPart = (): void => part.abort(inner.signal.reason);
    inner.signal.addEventListener('abort', forwardPart, { once: true });
    const pipes = task.consumers.map((consumer) => `${task.spoolPath}.${consumer.name}`);
    for (const pipe of pipes) makeFifo(pipe);
    const writers: (Socket | undefined)[] = pipes.map(() => undefined);
    let sink: Writable | undefined;
    let stageError: unknown;
    const running = task.consumers.map((consumer, i) => consumer.run(pipes[i] ?? ''));
    // A failed consumer has closed its end of the pipe: stop the query feeding it, or it would
    // block on a full pipe; its error (naming the part, row and column) is what the part reports.
    for (const run of running) {
      run.catch((error: unknown) => {
        stageError ??= error;
        sink?.destroy();
        for (const writer of writers) writer?.destroy();
        part.abort(error);
      });
    }
    try {
      for (const [i, pipe] of pipes.entries()) {
        const writer = await openFifoWriter(pipe, running[i] ?? Promise.resolve(), part.signal);
        writer.on('error', () => undefined);
        writers[i] = writer;
      }
      const opened = writers.filter((w): w is Socket => w !== undefined);
      sink = opened.length === 1 && opened[0] !== undefined ? opened[0] : new Tee(opened);
      sink.on('error', () => undefined);
      const totals = await session.extract(task.sql, task.columns, sink, part.signal, (p) =>
        options.tracker.update(task.id, p.rows, p.bytes),
      );
      await closeSink(sink, false);
      if (sink.errored && stageError === undefined) {
        throw new EtlError(
          'INTERNAL',
          `cannot write the staging pipes of part ${task.id}: ${sink.errored.message}`,
        );
      }
      return { ...totals, consumed: await Promise.all(running) };
    } catch (error) {
      const sourceFailedFirst = stageError === undefined;
      if (sink !== undefined) await closeSink(sink, true);
      for (const [i, pipe] of pipes.entries()) {
        const writer = writers[i];
        if (writer !== undefined) {
          await closeSink(writer, true);
          continue;
        }
        // The consumer may be blocked opening its pipe for reading: give it a writer that closes
        // at once (EOF), so it ends instead of holding its pool thread forever.
        await openFifoWriter(pipe, running[i] ?? Promise.resolve(), new AbortController().signal).then(
          (late) => closeSink(late, true),
          () => undefined,
        );
      }
      await Promise.allSettled(running);
      throw causeOf(stageError, error, sourceFailedFirst);
    } finally {
      inner.signal.removeEventListener('abort', forwardPart);
    }
  };

  const runTask = async (task: ExtractTask): Promise<void> => {
    const session = sessions.get(task.shard);
    if (session === undefined) throw new EtlError('INTERNAL', `no read session for shard ${task.shard}`);
    const release = await options.governor.acquire(task.hostKey, inner.signal, options.onWait);
    const needed = task.consumers.length;
    const streamed = slots.tryTake(needed);
    let extracted: ExtractProgress;
    let consumed: readonly number[] | undefined;
    try {
      options.tracker.start(task.id);
      if (streamed) {
        const totals = await streamTask(task, session);
        extracted = totals;
        consumed = totals.consumed;
      } else {
        extracted = await spoolTask(task, session);
      }
      options.tracker.update(task.id, extracted.rows, extracted.bytes);
    } finally {
      if (streamed) slots.give(needed);
      release();
    }
    if (consumed === undefined) {
      await slots.take(needed, inner.signal);
      try {
        consumed = await consumeSpool(task);
      } finally {
        slots.give(needed);
      }
    }
    results.set(task.id, { ...extracted, consumed });
  };

  const worker = async (): Promise<void> => {
    for (let task = queue.shift(); task !== undefined; task = queue.shift()) {
      if (inner.signal.aborted) break;
      try {
        await runTask(task);
        options.tracker.finish(task.id, 'done');
      } catch (error) {
        const etl = toEtlError(error, 'SOURCE_QUERY');
        options.tracker.finish(task.id, etl.code === 'CANCELLED' ? 'cancelled' : 'failed', {
          code: etl.code,
          message: etl.message,
        });
        if (firstError === undefined || (firstError.code === 'CANCELLED' && etl.code !== 'CANCELLED'))
          firstError = etl;
        inner.abort(etl);
      }
    }
  };

  try {
    await Promise.all(
      Array.from({ length: Math.max(1, Math.min(options.parallelism, tasks.length)) }, worker),
    );
  } finally {
    options.signal.removeEventListener('abort', forward);
    options.tracker.cancelPending();
  }
  if (options.signal.aborted) throw cancelledError('the extraction');
  if (firstError !== undefined) throw firstError;
  return results;
}

/**
 * Counted consumer slots: `tryTake` for a part about to stream (never waits: a part that cannot
 * stream spools), `take` for a spooled part's consumers (waits for slots, or the abort).
 */
class Slots {
  readonly #total: number;
  #free: number;
  readonly #waiters: (() => void)[] = [];

  constructor(total: number) {
    this.#total = Math.max(1, total);
    this.#free = this.#total;
  }

  /** A part needing more slots than exist takes them all. */
  #needed(count: number): number {
    return Math.min(count, this.#total);
  }

  tryTake(count: number): boolean {
    const needed = this.#needed(count);
    if (this.#free < needed) return false;
    this.#free -= needed;
    return true;
  }

  async take(count: number, signal: AbortSignal): Promise<void> {
    while (!this.tryTake(count)) {
      if (signal.aborted) throw cancelledError('the extraction');
      await new Promise<void>((resolve) => {
        const wake = (): void => {
          signal.removeEventListener('abort', wake);
          resolve();
        };
        this.#waiters.push(wake);
        signal.addEventListener('abort', wake, { once: true });
      });
    }
  }

  give(count: number): void {
    this.#free += this.#needed(count);
    for (const wake of this.#waiters.splice(0)) wake();
  }
}

/**
 * Copies every chunk to each target (the pipes of a part's consumers) and calls back once all
 * have taken it, so the slowest consumer sets the pace (back-pressure reaches the source query).
 */
class Tee extends Writable {
  readonly #targets: readonly Writable[];

  constructor(targets: readonly Writable[]) {
    super();
    this.#targets = targets;
    for (const target of targets) target.on('error', (error: Error) => this.destroy(error));
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    let waiting = this.#targets.length;
    const taken = (): void => {
      waiting -= 1;
      if (waiting === 0) callback();
    };
    for (const target of this.#targets) {
      if (target.write(chunk)) taken();
      else target.once('drain', taken);
    }
  }

  override _final(callback: (error?: Error | null) => void): void {
    let open = this.#targets.length;
    for (const target of this.#targets) {
      target.end(() => {
        open -= 1;
        if (open === 0) callback();
      });
    }
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    for (const target of this.#targets) target.destroy();
    callback(error);
  }
}
