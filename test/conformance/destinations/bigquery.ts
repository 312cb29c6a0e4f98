/**
 * BigQuery destination fixture over the strict REST double: one dataset per fixture, tables read
 * from the double's storage (BYTES come back base64, marked for normalisation).
 */
import { BigQueryDestination } from '../../../daemon/destinations/bigquery/bigquery-destination.js';
import { silentLogger } from '../../../daemon/logging/logger.js';
import type { BigQueryDouble } from '../../helpers/bigquery-double/bigquery-double.js';
import { DoubleStorage } from '../../helpers/bigquery-double/double-storage.js';
import type { DestinationFixture } from '../destination.case.js';
import { projectRow, readColumns } from './table-columns.js';

export function bigqueryDoubleFixture(
  double: BigQueryDouble,
  dataset: string,
  format: 'ndjson' | 'parquet',
): DestinationFixture {
  return {
    destination: (table) =>
      new BigQueryDestination(
        { type: 'bigquery', project: double.project, dataset, table, format, api_endpoint: double.endpoint },
        { lakeDir: '/nonexistent', logger: silentLogger, resolveConnection: () => ({}) },
        { poll: { pollMs: 5, maxPollMs: 20 } },
      ),
    async read(table, columns) {
      const fields = double.storage.tables.get(DoubleStorage.key(dataset, table));
      if (fields === undefined) return null;
      const present = new Set(fields.map((f) => f.name));
      const wanted = readColumns(columns);
      const rows = await double.storage.textRows(dataset, table, '1');
      return rows.map((row) =>
        projectRow(
          wanted,
          present,
          Object.fromEntries(
            wanted.map((c) => {
              const value = row[c.name];
              return [
                c.name,
                c.kind.kind === 'bytes' && typeof value === 'string' ? `base64:${value}` : value,
              ];
            }),
          ),
        ),
      );
    },
    close: () => Promise.resolve(),
  };
}
