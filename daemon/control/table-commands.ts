/**
 * The control socket's side of multi-table pipelines: the tables of one run (`tables`), and the
 * state name `history --table` reads a table's own runs under.
 */
import { EtlError } from '../../shared/errors.js';
import type { RunTable, RunTables } from '../../shared/protocol-tables.js';
import type { RunTableRow, StateStore } from '../state/store.js';

function toRunTable(row: RunTableRow): RunTable {
  return {
    table: row.table,
    state_name: row.member,
    sequence: row.memberSequence,
    status: row.status,
    attempts: row.attempts,
    rows_extracted: row.rowsExtracted,
    rows_loaded: row.rowsLoaded,
    verdict: row.verdict,
    error:
      row.errorCode === null
        ? null
        : { code: row.errorCode, message: row.errorMessage ?? '', retryable: row.retryable },
    updated_at: row.updatedAt,
  };
}

/** The tables of run `sequence` of the pipeline, or of its newest run that had tables. */
export function runTablesOf(store: StateStore, pipeline: string, sequence: number | undefined): RunTables {
  const newest = sequence ?? Math.max(0, ...store.latestRunTables(pipeline).map((r) => r.sequence));
  if (newest === 0) return { pipeline, sequence: null, tables: [] };
  const rows = store.listRunTables(pipeline, newest);
  if (rows.length === 0 && sequence !== undefined)
    throw new EtlError('NOT_FOUND', `run ${pipeline}-${sequence} loaded no tables (not a multi-table run)`);
  return { pipeline, sequence: newest, tables: rows.map(toRunTable) };
}

/**
 * The state name of `table` of the pipeline: the table as `status` lists it, or the end of that
 * name (`orders` for `public.orders`) when only one table ends so.
 */
export function tableStateName(store: StateStore, pipeline: string, table: string): string {
  const known = store.latestRunTables(pipeline);
  const exact = known.find((r) => r.table === table);
  if (exact !== undefined) return exact.member;
  const ending = known.filter((r) => r.table.endsWith(`.${table}`) || r.table.endsWith(`/${table}`));
  const only = ending[0];
  if (ending.length === 1 && only !== undefined) return only.member;
  const names = known.map((r) => r.table);
  throw new EtlError(
    'NOT_FOUND',
    ending.length > 1
      ? `"${table}" names several tables of ${pipeline}: ${ending.map((r) => r.table).join(', ')}`
      : `pipeline ${pipeline} has loaded no table "${table}"${names.length > 0 ? ` (tables: ${names.join(', ')})` : ''}`,
  );
}
