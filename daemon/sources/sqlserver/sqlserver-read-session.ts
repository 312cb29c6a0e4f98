/**
 * A SQL Server read session: reader connections in SNAPSHOT (or READ COMMITTED) transactions.
 * `extract` receives rows already rendered to text by the adapter's SELECT and writes staging CSV
 * in ~64 KB chunks, pausing the request while the sink is full; abort cancels the request (the
 * loop around it is row-pump.ts).
 */
import { Request } from 'tedious';
import type { EtlError } from '../../../shared/errors.js';
import type { ExtractProgress } from '../source.js';
import { CsvBatchWriter } from '../csv-writer.js';
import { ReadSessionBase, type ExtractJob } from '../read-session-base.js';
import { pumpRows } from '../row-pump.js';
import {
  cellText,
  type ColumnValue,
  type SqlServerConnection,
  type SqlServerConnector,
} from './sqlserver-connection.js';
import { mapSqlServerError } from './sqlserver-errors.js';

export class SqlServerReadSession extends ReadSessionBase<SqlServerConnection, SqlServerConnector> {
  protected read(reader: SqlServerConnection, job: ExtractJob): Promise<ExtractProgress> {
    const { sql, sink } = job;
    const what = this.connector.what;
    const width = job.columns.length;
    const mapError = (error: unknown): EtlError => mapSqlServerError(error, what);
    // SOURCE_DATA (where MySQL says STAGING) is what this connector has always reported.
    return pumpRows({ ...job, what, sinkErrorCode: 'SOURCE_DATA', mapError }, (pump) => {
      const values: (string | null)[] = new Array<string | null>(width).fill(null);
      const request = new Request(sql, (error) => pump.finish(error));
      const writer = new CsvBatchWriter(sink, {
        pause: () => request.pause(),
        resume: () => request.resume(),
      });
      request.on('row', (cells: ColumnValue[]) => {
        if (pump.failed) return;
        for (let i = 0; i < width; i++) {
          const value = cells[i]?.value;
          values[i] = typeof value === 'string' || value === null ? value : cellText(value);
        }
        writer.writeRow(values);
        pump.rowWritten();
      });
      return {
        writer,
        // Requests on one connection run one at a time.
        run: () => {
          reader.queue = reader.queue.then(
            () =>
              new Promise<void>((done) => {
                request.on('requestCompleted', () => done());
                reader.connection.execSqlBatch(request);
              }),
          );
        },
        stop: () => {
          request.resume();
          request.cancel();
        },
        end: () => {
          writer.flush();
          sink.end();
        },
      };
    });
  }
}
