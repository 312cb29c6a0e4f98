/**
 * Parallel extraction: every part (shard × chunk) is one SELECT whose staging CSV is staged into
 * DuckDB while it is extracted, through a FIFO at the part's spool path that the part's own
 * INSERT reads (`stage`); at most `maxStreams` parts stream at once, the others spool to a file
 * loaded after extraction (their totals have `staged: null`). At most `parallelism` parts run at
 * once across the run, each holding a governor slot on its source host for the duration of its
 * query. The first failure aborts the other parts (their queries are cancelled server-side) and
 * is what the run reports; every part has settled (files and pipes closed, INSERTs finished)
 * before this returns or throws.
 */
import { createWriteStream, type WriteStream } from 'node:fs';
import type { Socket } from 'node:net';
import { EtlError, toEtlError } from '../../shared/errors.js';
import type { ColumnSchema } from '../../shared/types.js';
import type { ExtractProgress, ReadSession } from '../sources/source.js';
import type { SourceGovernor } from './engine.js';
import { makeFifo, openFifoWriter } from './fifo-writer.js';
import type { ProgressTracker } from './progress-tracker.js';

export interface ExtractTask {
  readonly id: string;
  readonly shard: string;
  readonly hostKey: string;
  readonly sql: string;
  /** The columns the SELECT returns, in order (the source columns, then any flag columns). */
  readonly columns: readonly ColumnSchema[];
  readonly spoolPath: string;
}

export interface ExtractOptions {
  readonly parallelism: number;
  readonly governor: SourceGovernor;
  readonly signal: AbortSignal;
  readonly tracker: ProgressTracker;
  /** Called while a part waits for a governor slot. */
  readonly onWait?: () => void;
  /** Stages the CSV arriving at `task.spoolPath` (a FIFO); resolves with the rows staged. */
  readonly stage: (task: ExtractTask) => Promise<number>;
  /**
   * Parts streamed at once. Each streaming INSERT holds a libuv pool thread (4 by default) while
   * it waits for data, so this stays below the pool size: file writes still need the rest.
   */
  readonly maxStreams: number;
}

export interface PartTotals extends ExtractProgress {
  /** Rows staged while extracting; null when the part was spooled to a file, to be loaded next. */
  readonly staged: number | null;
}

export function cancelledRun(what: string): EtlError {
  return new EtlError('CANCELLED', `${what} was cancelled`, { retryable: false });
}

async function closeSink(sink: WriteStream | Socket, failed: boolean): Promise<void> {
  if (sink.closed) return;
  await new Promise<void>((resolve) => {
    sink.once('close', () => resolve());
    sink.once('error', () => resolve());
    if (failed) sink.destroy();
    else if (!sink.writableEnded) sink.end();
  });
}

/**
 * When a streamed part fails on both ends, which failure is the cause: a value that does not
 * convert (SOURCE_DATA from staging) is; else a lost source connection is (it cut the CSV short,
 * which is why staging failed); else the staging failure is.
 */
function causeOf(stageError: unknown, extractError: unknown): unknown {
  if (stageError === undefined) return extractError;
  const stage = toEtlError(stageError, 'STAGING');
  if (stage.code === 'SOURCE_DATA' && !/CSV Error/i.test(stage.message)) return stage;
  const source = toEtlError(extractError, 'SOURCE_QUERY');
  if (source.code === 'SOURCE_CONNECTION' || source.code === 'SOURCE_TIMEOUT') return source;
  return stage;
}

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
  let streams = 0;

  const spoolTask = async (task: ExtractTask, session: ReadSession): Promise<PartTotals> => {
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
      return { ...totals, staged: null };
    } finally {
      if (!ok) await closeSink(sink, true);
    }
  };

  const streamTask = async (task: ExtractTask, session: ReadSession): Promise<PartTotals> => {
    makeFifo(task.spoolPath);
    const part = new AbortController();
    const forwardPart = (): void => part.abort(inner.signal.reason);
    inner.signal.addEventListener('abort', forwardPart, { once: true });
    let sink: Socket | undefined;
    let stageError: unknown;
    const staging = options.stage(task);
    // A failed INSERT has closed its end of the pipe: stop the query feeding it, or it would
    // block on a full pipe; its error (naming the column and value) is what the part reports.
    staging.catch((error: unknown) => {
      stageError = error;
      sink?.destroy();
      part.abort(error);
    });
    try {
      sink = await openFifoWriter(task.spoolPath, staging, part.signal);
      sink.on('error', () => undefined);
      const totals = await session.extract(task.sql, task.columns, sink, part.signal, (p) =>
        options.tracker.update(task.id, p.rows, p.bytes),
      );
      await closeSink(sink, false);
      if (sink.errored && stageError === undefined) {
        throw new EtlError(
          'INTERNAL',
          `cannot write staging pipe ${task.spoolPath}: ${sink.errored.message}`,
        );
      }
      return { ...totals, staged: await staging };
    } catch (error) {
      if (sink !== undefined) await closeSink(sink, true);
      else {
        // The INSERT may be blocked opening the pipe for reading: give it a writer that closes
        // at once (EOF), so it ends instead of holding its pool thread forever.
        await openFifoWriter(task.spoolPath, staging, new AbortController().signal).then(
          (late) => closeSink(late, true),
          () => undefined,
        );
      }
      await staging.catch(() => undefined);
      throw causeOf(stageError, error);
    } finally {
      inner.signal.removeEventListener('abort', forwardPart);
    }
  };

  const runTask = async (task: ExtractTask): Promise<void> => {
    const session = sessions.get(task.shard);
    if (session === undefined) throw new EtlError('INTERNAL', `no read session for shard ${task.shard}`);
    const release = await options.governor.acquire(task.hostKey, inner.signal, options.onWait);
    const streamed = streams < options.maxStreams;
    if (streamed) streams++;
    try {
      options.tracker.start(task.id);
      const totals = streamed ? await streamTask(task, session) : await spoolTask(task, session);
      options.tracker.update(task.id, totals.rows, totals.bytes);
      results.set(task.id, totals);
    } finally {
      if (streamed) streams--;
      release();
    }
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
  if (options.signal.aborted) throw cancelledRun('the extraction');
  if (firstError !== undefined) throw firstError;
  return results;
}
