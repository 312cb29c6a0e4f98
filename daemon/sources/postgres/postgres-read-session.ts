/**
 * A PostgreSQL read session: reader connections inside REPEATABLE READ READ ONLY transactions
 * that share one exported snapshot. `extract` streams `COPY (…) TO STDOUT (FORMAT csv)` bytes
 * straight into the sink: the socket's chunks lose their message framing in place
 * (postgres-copy-out.ts), with no JavaScript per row.
 */
import { pipeline } from 'node:stream/promises';
import type { ExtractProgress } from '../source.js';
import { cancelledError, EtlError } from '../../../shared/errors.js';
import { PROGRESS_INTERVAL_MS, ReadSessionBase, type ExtractJob } from '../read-session-base.js';
import type { PgConnection, PostgresConnector } from './postgres-connection.js';
import { PostgresCopyOut } from './postgres-copy-out.js';
import { mapPostgresError } from './postgres-errors.js';

export class PostgresReadSession extends ReadSessionBase<PgConnection, PostgresConnector> {
  protected async read(reader: PgConnection, job: ExtractJob): Promise<ExtractProgress> {
    const { sql, sink, signal, onProgress } = job;
    const what = this.connector.what;
    if (signal.aborted) throw cancelledError(what);
    let lastReport = 0;
    const copy = new PostgresCopyOut(`COPY (${sql}\n) TO STDOUT WITH (FORMAT csv)`, what, (rows, bytes) => {
      const now = Date.now();
      if (now - lastReport < PROGRESS_INTERVAL_MS) return;
      lastReport = now;
      onProgress({ rows, bytes });
    });
    reader.client.query(copy);
    let settled: (() => void) | undefined;
    let finished = false;
    const stop = (): void => {
      if (!finished && settled === undefined) settled = this.connector.cancel(reader);
    };
    signal.addEventListener('abort', stop, { once: true });
    // Which end failed first: pipeline() destroys the other streams with the same error object,
    // so only the order of the first 'error' events tells a lost connection from a closed pipe.
    let origin: 'source' | 'sink' | undefined;
    const onSourceError = (): void => {
      origin ??= 'source';
    };
    const onSinkError = (): void => {
      origin ??= 'sink';
    };
    copy.once('error', onSourceError);
    sink.once('error', onSinkError);
    try {
      await pipeline(copy, sink);
      finished = true;
    } catch (error) {
      // The sink may have failed (disk full) while the server still sends: stop the query too.
      stop();
      if (origin === 'sink') {
        throw new EtlError(
          'STAGING',
          `${what}: the staging pipe failed: ${error instanceof Error ? error.message : String(error)}`,
          { cause: error },
        );
      }
      const mapped = mapPostgresError(error, what);
      // A lost connection stays what it is even when the run was stopping meanwhile: it is what
      // cut the CSV short, and it is retried.
      if (signal.aborted && mapped.code !== 'SOURCE_CONNECTION') throw cancelledError(what);
      throw mapped;
    } finally {
      copy.removeListener('error', onSourceError);
      sink.removeListener('error', onSinkError);
      signal.removeEventListener('abort', stop);
      settled?.();
    }
    const totals = { rows: copy.rows, bytes: copy.bytes };
    onProgress(totals);
    return totals;
  }
}
