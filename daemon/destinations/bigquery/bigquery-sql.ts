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
 * De-duplicates the staged rows (newest per key by cursor, then by staging ordinal) and merges
 * them by key. BigQuery refuses a MERGE in which two source rows match one target row, hence the
 * ROW_NUMBER step first (notes §2).
 */
export function mergeSql(options: {
  target: string;
  staging: string;
  columns: readonly string[];
  key: readonly string[];
  cursor: string | undefined;
  ordinal: string;
}): string {
  const cols = options.columns.map(quoteName);
  const order = [...(options.cursor === undefined ? [] : [`${quoteName(options.cursor)} DESC NULLS LAST`]), `${quoteName(options.ordinal)} DESC`];
  const keySet = new Set(options.key);
  const on = options.key.map((k) => `T.${quoteName(k)} = S.${quoteName(k)}`).join(' AND ');
  const updates = options.columns.filter((c) => !keySet.has(c)).map((c) => `${quoteName(c)} = S.${quoteName(c)}`);
  const matched = updates.length === 0 ? '' : `WHEN MATCHED THEN UPDATE SET ${updates.join(', ')}\n`;
  return `MERGE ${options.target} T
USING (
  SELECT ${cols.join(', ')} FROM (
    SELECT ${cols.join(', ')}, ROW_NUMBER() OVER (PARTITION BY ${options.key.map(quoteName).join(', ')} ORDER BY ${order.join(', ')}) AS _etld_rn
    FROM ${options.staging}
  ) WHERE _etld_rn = 1
) S
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
  { name: 'rows', type: 'INT64', mode: 'NULLABLE' },
  { name: 'committed_at', type: 'TIMESTAMP', mode: 'REQUIRED' },
];

export function recordCommitSql(commits: string, row: { pipeline: string; sequence: number; runId: string; table: string; jobId: string; rows: number | undefined }): string {
  return `INSERT INTO ${commits} (pipeline, sequence, run_id, table_id, job_id, rows, committed_at)
VALUES (${stringLiteral(row.pipeline)}, ${row.sequence}, ${stringLiteral(row.runId)}, ${stringLiteral(row.table)}, ${stringLiteral(row.jobId)}, ${row.rows ?? 'NULL'}, CURRENT_TIMESTAMP())`;
}
