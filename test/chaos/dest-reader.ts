/**
 * Reads what a chaos pipeline's destination holds, as normalised rows in the model's column
 * order, with the destination conformance suite's readers (test/conformance/destinations/): the
 * same code that judges every destination's contract judges the chaos model.
 *
 * Decisions:
 * - The daemon has exited by the time a round is read, so the DuckDB file is free to open.
 * - PostgreSQL is read directly, not through the fault proxy the daemon writes through.
 * - Delta tables of a round are read by one delta-rs process.
 * - A table that does not exist is empty; a column the destination lacks (added in the source but
 *   not loaded yet) reads as NULL. Metadata columns other than `_etl_shard` are not asked for.
 */
import { readDeltaTables } from '../conformance/destinations/delta.js';
import { readDuckDbTable } from '../conformance/destinations/duckdb.js';
import { readPostgresTable } from '../conformance/destinations/postgres.js';
import type { NormalRow } from '../conformance/normalise.js';
import type { ColumnDef } from './source-schema.js';
import type { SqlTarget } from './sql-target.js';

export type DestinationLocation =
  | { readonly kind: 'duckdb'; readonly file: string; readonly table: string }
  | {
      readonly kind: 'postgres';
      readonly target: SqlTarget;
      readonly database: string;
      readonly table: string;
    }
  | { readonly kind: 'delta'; readonly path: string };

export interface DestinationRead {
  readonly rows: NormalRow[];
  readonly error?: string;
}

function message(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** Reads every location; Delta tables in one oracle process. Never throws: errors are per table. */
export async function readDestinations(
  requests: readonly { readonly location: DestinationLocation; readonly columns: readonly ColumnDef[] }[],
): Promise<DestinationRead[]> {
  const deltaRequests = requests.flatMap(({ location, columns }) =>
    location.kind === 'delta' ? [{ path: location.path, columns }] : [],
  );
  const deltaReads = deltaRequests.length > 0 ? await readDeltaTables(deltaRequests) : [];
  let deltaIndex = 0;
  const out: DestinationRead[] = [];
  for (const { location, columns } of requests) {
    try {
      switch (location.kind) {
        case 'duckdb':
          out.push({ rows: (await readDuckDbTable(location.file, location.table, columns)) ?? [] });
          break;
        case 'postgres': {
          const query = (sql: string, params?: readonly unknown[]): Promise<Record<string, unknown>[]> =>
            location.target.run(location.database, sql, params);
          out.push({ rows: (await readPostgresTable(query, location.table, columns)) ?? [] });
          break;
        }
        case 'delta': {
          const read = deltaReads[deltaIndex++];
          if (read === undefined) out.push({ rows: [], error: 'no answer from the oracle' });
          else if ('error' in read) out.push({ rows: [], error: read.error });
          else out.push({ rows: read.rows ?? [] });
          break;
        }
      }
    } catch (error) {
      out.push({ rows: [], error: message(error) });
    }
  }
  return out;
}
