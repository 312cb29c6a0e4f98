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

/**
 * Appends the staged rows the target does not hold yet (a backfill of an append pipeline): the
 * n-th staged copy of a content is inserted when the target holds fewer than n rows with it, so
 * rows compare as multisets and a repeated backfill inserts nothing. Contents compare over
 * `compare` with IS NOT DISTINCT FROM (NULL matches NULL). JSON has no equality in GoogleSQL and
 * FLOAT64 cannot partition a window, so those compare by their exact text.
 */
export function appendMissingSql(options: {
  target: string;
  staging: string;
  columns: readonly string[];
  compare: readonly BigQueryField[];
}): string {
  const cols = options.columns.map(quoteName);
  const comparable = (field: BigQueryField, alias: string): string => {
    const column = `${alias}.${quoteName(field.name)}`;
    if (field.type === 'JSON') return `TO_JSON_STRING(${column})`;
    // A window cannot be partitioned by FLOAT64; 17 significant digits name a double exactly.
    if (field.type === 'FLOAT64') return `FORMAT('%.17g', ${column})`;
    return column;
  };
  const names = options.compare.map((_, i) => `__etld_c${i}`);
  const stagedKeys = options.compare.map((f, i) => `${comparable(f, 'S')} AS ${names[i]}`);
  const heldKeys = options.compare.map((f, i) => `${comparable(f, 'T')} AS ${names[i]}`);
  const match = names.map((n) => `B.${n} IS NOT DISTINCT FROM H.${n}`).join(' AND ');
  return `INSERT INTO ${options.target} (${cols.join(', ')})
SELECT ${cols.map((c) => `B.${c}`).join(', ')}
FROM (SELECT S.*, ${stagedKeys.join(', ')}, ROW_NUMBER() OVER (PARTITION BY ${options.compare.map((f) => comparable(f, 'S')).join(', ')}) AS __etld_n FROM ${options.staging} S) B
LEFT JOIN (SELECT ${heldKeys.join(', ')}, COUNT(*) AS __etld_k FROM ${options.target} T GROUP BY ${names.join(', ')}) H
ON ${match}
WHERE B.__etld_n > IFNULL(H.__etld_k, 0)`;
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
