/**
 * A MySQL read session: reader connections in REPEATABLE READ consistent-snapshot transactions.
 * `extract` turns the text protocol's row packets straight into staging-CSV bytes (no JavaScript
 * value per row or cell) and writes them in ~64 KB chunks, pausing the connection while the sink
 * is full (the loop around it is row-pump.ts).
 */
import { EtlError } from '../../../shared/errors.js';
import type { ExtractProgress } from '../source.js';
import { CsvChunkWriter } from '../csv-chunk-writer.js';
import { ReadSessionBase, type ExtractJob } from '../read-session-base.js';
import { pumpRows } from '../row-pump.js';
import type { MysqlConnection, MysqlConnector } from './mysql-connection.js';
import { MysqlCsvEncoder } from './mysql-csv-encoder.js';
import { mapMysqlError } from './mysql-errors.js';
import { queryRowPackets } from './mysql-row-packets.js';

export class MysqlReadSession extends ReadSessionBase<MysqlConnection, MysqlConnector> {
  readonly #zeroDates: 'null' | 'error';

  constructor(
    connector: MysqlConnector,
    readers: readonly MysqlConnection[],
    consistent: boolean,
    zeroDates: 'null' | 'error',
    onClose: () => void,
  ) {
    super(connector, readers, consistent, onClose);
    this.#zeroDates = zeroDates;
  }

  protected read(reader: MysqlConnection, job: ExtractJob): Promise<ExtractProgress> {
    const { sql, columns, sink } = job;
    const what = this.connector.what;
    const mapError = (error: unknown): EtlError => mapMysqlError(error, what);
    return pumpRows({ ...job, what, sinkErrorCode: 'STAGING', mapError }, (pump) => {
      const encoder = new MysqlCsvEncoder(columns, this.#zeroDates, what);
      const writer = new CsvChunkWriter(sink, { pause: () => reader.pause(), resume: () => reader.resume() });
      let settleCancel: (() => void) | undefined;
      // A query added to a connection that is already lost gets no event of its own: mysql2
      // reports that on the connection, so the connection's own error and end count here too.
      const onConnectionLost = (error?: unknown): void =>
        pump.finish(
          error ??
            Object.assign(new Error('Connection lost: the server closed the connection'), {
              code: 'PROTOCOL_CONNECTION_LOST',
              fatal: true,
            }),
        );
      reader.on('error', onConnectionLost);
      reader.on('end', onConnectionLost);

      const run = (): void => {
        const query = queryRowPackets(reader, sql, {
          row: (buffer, start, end) => {
            if (pump.failed) return;
            const out = writer.room(encoder.worstCaseBytes(end - start));
            let position: number;
            try {
              position = encoder.encodeRow(buffer, start, end, out, writer.position, writer.rows + 1);
            } catch (error) {
              // A value the staging cannot take fails the extract; anything else (a malformed
              // packet) is rethrown so that mysql2 drops the connection.
              if (error instanceof EtlError && error.code === 'SOURCE_DATA') {
                pump.fail(error);
                return;
              }
              throw error;
            }
            writer.endRow(position);
            pump.rowWritten();
          },
          columns: (count) => {
            if (count !== columns.length)
              pump.fail(
                new EtlError(
                  'INTERNAL',
                  `${what}: the extract query returned ${count} columns where ${columns.length} were expected`,
                ),
              );
          },
          unexpected: (error) =>
            pump.fail(new EtlError(error.code, `${what}: ${error.message}`, { retryable: false })),
        });
        query.on('error', (error: unknown) => pump.finish(error));
        query.on('end', () => pump.finish());
      };

      return {
        writer,
        run,
        stop: () => {
          settleCancel ??= this.connector.cancel(reader);
          // A connection paused for back-pressure would never read the server's answer to KILL.
          // Resumed from a fresh task: resuming replays queued row packets, and this may run
          // inside the handling of one.
          queueMicrotask(() => reader.resume());
        },
        settled: () => {
          reader.removeListener('error', onConnectionLost);
          reader.removeListener('end', onConnectionLost);
          settleCancel?.();
        },
        end: () => writer.end(),
      };
    });
  }
}
