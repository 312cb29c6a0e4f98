/**
 * Delta destination fixture and reader. Tables are read by delta-rs (the oracle script), never by
 * our own log reader, all tables of one call in one process. A path whose `_delta_log` holds no
 * version yet (no `NNN.json`, no checkpoint) is no table, as the Delta protocol has it (a table
 * exists from version 0 on): a crash can leave that state between creating the directory and the
 * first commit. `npm run chaos` reads its Delta destinations with `readDeltaTables`.
 */
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { deltaDestination } from '../../../daemon/destinations/delta/delta-destination.js';
import { silentLogger } from '../../../daemon/logging/logger.js';
import type { DestinationFixture } from '../destination.case.js';
import { readWithOracle } from '../delta-oracle.js';
import type { NormalRow } from '../normalise.js';
import { projectRow, readColumns, type ReadColumn } from './table-columns.js';

const DELTA_VERSION_FILE = /^\d{20}\.(json|checkpoint\.parquet|checkpoint\.\d+\.\d+\.parquet)$/;

export function hasDeltaVersion(tablePath: string): boolean {
  const log = join(tablePath, '_delta_log');
  return existsSync(log) && readdirSync(log).some((name) => DELTA_VERSION_FILE.test(name));
}

/** One table's read: its rows (null: no table), or why the oracle could not read it. */
export type DeltaRead = { readonly rows: NormalRow[] | null } | { readonly error: string };

/** Reads every table with delta-rs in one process; never throws, errors are per table. */
export async function readDeltaTables(
  requests: readonly { readonly path: string; readonly columns: readonly ReadColumn[] }[],
): Promise<DeltaRead[]> {
  const existing = requests.filter((r) => hasDeltaVersion(r.path)).map((r) => r.path);
  let tables: Awaited<ReturnType<typeof readWithOracle>> = {};
  let failure: string | undefined;
  if (existing.length > 0) {
    try {
      tables = await readWithOracle('deltalake', existing);
    } catch (error) {
      failure = `delta-rs oracle failed: ${error instanceof Error ? error.message : String(error)}`;
    }
  }
  return requests.map(({ path, columns }) => {
    if (!existing.includes(path)) return { rows: null };
    const table = tables[path];
    if (failure !== undefined || table === undefined || table.error !== undefined)
      return { error: failure ?? table?.error ?? 'no answer from the oracle' };
    const present = new Set((table.schema ?? []).map((f) => f.name));
    return { rows: (table.rows ?? []).map((row) => projectRow(columns, present, row)) };
  });
}

/** One table per directory under a temporary lake directory. */
export function deltaFixture(): DestinationFixture {
  const lakeDir = mkdtempSync(join(tmpdir(), 'etld-conformance-delta-'));
  const opened: { close(): Promise<void> }[] = [];
  return {
    destination(table) {
      const destination = deltaDestination.create(
        { type: 'delta', path: table },
        { lakeDir, logger: silentLogger, resolveConnection: () => ({}) },
      );
      opened.push(destination);
      return destination;
    },
    async read(table, columns) {
      const [read] = await readDeltaTables([{ path: join(lakeDir, table), columns: readColumns(columns) }]);
      if (read === undefined || 'error' in read)
        throw new Error(`delta-rs could not read ${table}: ${read?.error}`);
      return read.rows;
    },
    async close() {
      for (const destination of opened) await destination.close();
      rmSync(lakeDir, { recursive: true, force: true });
    },
  };
}
