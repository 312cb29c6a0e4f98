/**
 * Parallel extraction: every part (shard × chunk) is one SELECT whose staging CSV goes to a spool
 * file in the run's temp directory. At most `parallelism` parts run at once across the run, each
 * holding a governor slot on its source host for the duration of its query. The first failure
 * aborts the other parts (their queries are cancelled server-side) and is what the run reports;
 * every part has settled (files closed) before this returns or throws.
 */
import { createWriteStream, type WriteStream } from 'node:fs';
import { EtlError, toEtlError } from '../../shared/errors.js';
import type { ColumnSchema } from '../../shared/types.js';
import type { ExtractProgress, ReadSession } from '../sources/source.js';
import type { SourceGovernor } from './engine.js';
import type { ProgressTracker } from './progress-tracker.js';

export interface ExtractTask {
  readonly id: string;
  readonly shard: string;
  readonly hostKey: string;
  readonly sql: string;
  readonly spoolPath: string;
}

export interface ExtractOptions {
  readonly parallelism: number;
  readonly governor: SourceGovernor;
  readonly signal: AbortSignal;
  readonly tracker: ProgressTracker;
  /** Called while a part waits for a governor slot. */
  readonly onWait?: () => void;
}

export function cancelledRun(what: string): EtlError {
  return new EtlError('CANCELLED', `${what} was cancelled`, { retryable: false });
}

async function closeSink(sink: WriteStream, failed: boolean): Promise<void> {
  if (sink.closed) return;
  await new Promise<void>((resolve) => {
    sink.once('close', () => resolve());
    sink.once('error', () => resolve());
    if (failed) sink.destroy();
    else if (!sink.writableEnded) sink.end();
  });
}

/** Runs every task; resolves with each task's totals by id. */
export async function extractAll(
  tasks: readonly ExtractTask[],
  sessions: ReadonlyMap<string, ReadSession>,
  columns: readonly ColumnSchema[],
  options: ExtractOptions,
): Promise<Map<string, ExtractProgress>> {
  const inner = new AbortController();
  const forward = (): void => inner.abort(options.signal.reason);
  if (options.signal.aborted) forward();
  else options.signal.addEventListener('abort', forward, { once: true });
  const results = new Map<string, ExtractProgress>();
  const queue = [...tasks];
  let firstError: EtlError | undefined;

  const runTask = async (task: ExtractTask): Promise<void> => {
    const session = sessions.get(task.shard);
    if (session === undefined) throw new EtlError('INTERNAL', `no read session for shard ${task.shard}`);
    const release = await options.governor.acquire(task.hostKey, inner.signal, options.onWait);
    const sink = createWriteStream(task.spoolPath);
    let ok = false;
    try {
      options.tracker.start(task.id);
      const totals = await session.extract(task.sql, columns, sink, inner.signal, (p) => options.tracker.update(task.id, p.rows, p.bytes));
      await closeSink(sink, false);
      if (sink.errored) throw new EtlError('INTERNAL', `cannot write spool file ${task.spoolPath}: ${sink.errored.message}`);
      options.tracker.update(task.id, totals.rows, totals.bytes);
      results.set(task.id, totals);
      ok = true;
    } finally {
      if (!ok) await closeSink(sink, true);
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
        options.tracker.finish(task.id, etl.code === 'CANCELLED' ? 'cancelled' : 'failed', { code: etl.code, message: etl.message });
        if (firstError === undefined || (firstError.code === 'CANCELLED' && etl.code !== 'CANCELLED')) firstError = etl;
        inner.abort(etl);
      }
    }
  };

  try {
    await Promise.all(Array.from({ length: Math.max(1, Math.min(options.parallelism, tasks.length)) }, worker));
  } finally {
    options.signal.removeEventListener('abort', forward);
    options.tracker.cancelPending();
  }
  if (options.signal.aborted) throw cancelledRun('the extraction');
  if (firstError !== undefined) throw firstError;
  return results;
}
