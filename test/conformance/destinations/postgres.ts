/**
 * PostgreSQL destination fixture and reader. The reader renders values with `::text` (bytes with
 * `encode(…, 'hex')`); a timestamptz's text carries its offset, which normalisation folds to UTC.
 * `npm run chaos` reads its PostgreSQL destinations with the same function, through its own
 * connection (not the fault proxy the daemon writes through).
 */
import type { Destination } from '../../../daemon/destinations/destination.js';
import { postgresDestination } from '../../../daemon/destinations/postgres/postgres-destination.js';
import { silentLogger } from '../../../daemon/logging/logger.js';
import type { PostgresServer } from '../../helpers/postgres-server.js';
import type { DestinationFixture } from '../destination.case.js';
import type { NormalRow } from '../normalise.js';
import { projectRow, quoted, readColumns, textSelectList, type ReadColumn } from './table-columns.js';

/** Runs one statement and returns its rows as objects. */
export type QueryRows = (sql: string, params?: readonly unknown[]) => Promise<Record<string, unknown>[]>;

/** The rows of `public.<table>`, or null when there is no such table. */
export async function readPostgresTable(
  query: QueryRows,
  table: string,
  columns: readonly ReadColumn[],
): Promise<NormalRow[] | null> {
  const names = (
    await query(
      `SELECT column_name FROM information_schema.columns WHERE table_schema = 'public' AND table_name = $1`,
      [table],
    )
  ).map((r) => String(r.column_name));
  if (names.length === 0) return null;
  const present = new Set(names);
  const select = textSelectList(columns, present, {
    asText: (name) => `${name}::text`,
    asHex: (name) => `encode(${name}, 'hex')`,
  });
  const rows = await query(`SELECT ${select} FROM public.${quoted(table)}`);
  return rows.map((row) => projectRow(columns, present, row));
}

/** A PostgreSQL destination for `table` in `database` on a loopback server, as user `user`, no password. */
export function postgresDestinationAt(
  port: number,
  user: string,
  database: string,
  table: string,
): Destination {
  return postgresDestination.create(
    { type: 'postgres', connection: { host: '127.0.0.1', port, user, database }, table },
    {
      lakeDir: '/nonexistent',
      logger: silentLogger,
      resolveConnection: (c) => ({ host: c.host, port: c.port, user: c.user, database: c.database }),
    },
  );
}

/** Tables in database `database` of a running test server (created by the fixture). */
export async function postgresFixture(server: PostgresServer, database: string): Promise<DestinationFixture> {
  await server.createDatabase(database);
  const opened: { close(): Promise<void> }[] = [];
  const query: QueryRows = (sql, params = []) => server.query(sql, [...params], database);
  return {
    destination(table) {
      const destination = postgresDestinationAt(server.port, server.user, database, table);
      opened.push(destination);
      return destination;
    },
    read: (table, columns) => readPostgresTable(query, table, readColumns(columns)),
    async close() {
      for (const destination of opened) await destination.close();
    },
  };
}
