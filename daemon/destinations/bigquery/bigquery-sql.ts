/** GoogleSQL text of the BigQuery destination. */
import type { BigQueryField } from './bigquery-types.js';

export function quoteName(name: string): string {
  return `\`${name.replaceAll('\\', '\\\\').replaceAll('`', '\\`')}\``;
}

export function tablePath(project: string, dataset: string, table: string): string {
  return quoteName(`${project}.${dataset}.${table}`);
}

export function stringLiteral(text: string): string {
  return `'${text.replaceAll('\\', '\\\\').replaceAll("'", "\\'").replaceAll('\n', '\\n').replaceAll('\r', '\\r')}'`;
}

/**
 * Merges the staging table into the target by key. The staged rows are already one per key
 * (exportBatch de-duplicates them in DuckDB before upload): BigQuery refuses a MERGE in which two
 * source rows match one target row, and de-duplicating before the upload also sends
 * fewer bytes.
 */
export function mergeSql(options: {
  target: string;
  staging: string;
  columns: readonly string[];
  key: readonly string[];
}): string {
  const cols = options.columns.map(quoteName);
  const keySet = new Set(options.key);
  const on = options.key.map((k) => `T.${quoteName(k)} = S.${quoteName(k)}`).join(' AND ');
  const updates = options.columns
    .filter((c) => !keySet.has(c))
    .map((c) => `${quoteName(c)} = S.${quoteName(c)}`);
  const matched = updates.length === 0 ? '' : `WHEN MATCHED THEN UPDATE SET ${updates.join(', ')}\n`;
  return `MERGE ${options.target} T
USING ${options.staging} S
ON ${on}
${matched}WHEN NOT MATCHED THEN INSERT (${cols.join(', ')}) VALUES (${cols.map((c) => `S.${c}`).join(', ')})`;
}

export const COMMITS_TABLE = '_etld_commits';

export const COMMITS_FIELDS: readonly BigQueryField[] = [
  { name: 'pipeline', type: 'STRING', mode: 'REQUIRED' },
  { name: 'sequence', type: 'INT64', mode: 'REQUIRED' },
  { name: 'run_id', type: 'STRING', mode: 'REQUIRED' },
  { name: 'table_id', type: 'STRING', mode: 'REQUIRED' },
  { name: 'job_id', type: 'STRING', mode: 'REQUIRED' },
  { name: 'row_count', type: 'INT64', mode: 'NULLABLE' },
  { name: 'committed_at', type: 'TIMESTAMP', mode: 'REQUIRED' },
];

export function recordCommitSql(
  commits: string,
  row: {
    pipeline: string;
    sequence: number;
    runId: string;
    table: string;
    jobId: string;
    rows: number | undefined;
  },
): string {
  const columns = COMMITS_FIELDS.map((f) => quoteName(f.name)).join(', ');
  return `INSERT INTO ${commits} (${columns})
VALUES (${stringLiteral(row.pipeline)}, ${row.sequence}, ${stringLiteral(row.runId)}, ${stringLiteral(row.table)}, ${stringLiteral(row.jobId)}, ${row.rows ?? 'NULL'}, CURRENT_TIMESTAMP())`;
}
