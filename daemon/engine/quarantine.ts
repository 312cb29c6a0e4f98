/**
 * The quarantine of a pipeline: where rows failing a check with `on_fail: quarantine` are loaded,
 * beside the destination and of the same kind — Delta `<path>_quarantine`, DuckDB, PostgreSQL and
 * BigQuery `<table>_quarantine` — with the load's columns plus `_etl_check` (the checks the row
 * failed, comma-separated). It always appends: every run's rejected rows stay for inspection.
 *
 * Exactly once: the quarantine is a destination of its own, committed with the run's sequence
 * under the pipeline id `<pipeline>.quarantine` (a name no pipeline can have, so the two records
 * never mix in a database holding both tables), and always before the data. A crash between the
 * two commits leaves the data uncommitted; the retry finds the quarantine holding its sequence and
 * writes nothing there again, then commits the data.
 */
import type { DestinationConfig } from '../../shared/config/pipeline-schema.js';
import type { DuckDBConnection } from '@duckdb/node-api';
import type { ColumnSchema } from '../../shared/types.js';
import type { Destination, LoadRequest } from '../destinations/destination.js';
import { QUARANTINE_CHECK_COLUMN, QUARANTINE_TABLE } from './quality-checks.js';

const SUFFIX = '_quarantine';

/** The destination settings of a pipeline's quarantine (see the file comment). */
export function quarantineDestination(config: DestinationConfig): DestinationConfig {
  switch (config.type) {
    case 'delta':
      return { ...config, path: `${config.path.replace(/\/+$/, '')}${SUFFIX}` };
    case 'duckdb':
    case 'postgres':
    case 'bigquery':
      return { ...config, table: `${config.table}${SUFFIX}` };
  }
}

/** Where the quarantine of `config` lives, for messages (`orders_quarantine`, `lake/orders_quarantine`). */
export function quarantineLabel(config: DestinationConfig): string {
  const target = quarantineDestination(config);
  return target.type === 'delta' ? target.path : target.table;
}

export function quarantinePipelineId(pipeline: string): string {
  return `${pipeline}.quarantine`;
}

/** The quarantine's columns: the load's, then `_etl_check`. */
export function quarantineColumns(columns: readonly ColumnSchema[]): ColumnSchema[] {
  return [...columns, { name: QUARANTINE_CHECK_COLUMN, type: { kind: 'text' }, nullable: false }];
}

/**
 * Loads the staged quarantine table into `destination` with the run's sequence and commits it.
 * Returns the rows the quarantine holds from this run (0 when an earlier attempt committed them).
 */
export async function commitQuarantine(
  destination: Destination,
  request: Pick<
    LoadRequest,
    'pipeline' | 'runId' | 'sequence' | 'schemaEvolution' | 'columns' | 'workDir' | 'duckdb' | 'signal'
  >,
  connection: DuckDBConnection,
): Promise<{ readonly rows: number; readonly alreadyCommitted: boolean }> {
  const columns = quarantineColumns(request.columns);
  const load = await destination.beginLoad({
    ...request,
    pipeline: quarantinePipelineId(request.pipeline),
    mode: 'incremental',
    key: undefined,
    cursor: undefined,
    columns,
  });
  try {
    await load.writePart({
      connection,
      select: `SELECT * FROM ${QUARANTINE_TABLE}`,
      table: QUARANTINE_TABLE,
      id: 'quarantine',
    });
    const result = await load.commit();
    return {
      rows: result.alreadyCommitted ? 0 : result.rowsLoaded,
      alreadyCommitted: result.alreadyCommitted,
    };
  } catch (error) {
    await load.abort();
    throw error;
  }
}
