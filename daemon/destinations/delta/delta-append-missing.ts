/**
 * A backfill of an append pipeline (`append_missing`): of the data files a load wrote, keep only
 * the rows the table does not hold yet. Rows compare as multisets over the compared columns: the
 * n-th copy of a content in the batch stays when the table holds fewer than n rows with it, so a
 * repeated backfill keeps nothing. NULL matches NULL (IS NOT DISTINCT FROM).
 *
 * The table's rows are read from the snapshot the load planned against; the commit refuses to
 * land on a table whose files changed since (delta-load.ts), as a merge does, so two backfills
 * racing cannot both append the same missing row.
 *
 * Partition columns live in the log, not in the files: a file's rows are read with its
 * `partitionValues` cast back to the column type, for the batch and the table alike.
 */
import type { DuckDBConnection } from '@duckdb/node-api';
import { EtlError } from '../../../shared/errors.js';
import type { AddAction } from './delta-actions.js';
import type { DataFileOptions } from './delta-data-writer.js';
import { removeDataFiles, writeDataFiles } from './delta-data-writer.js';
import type { DeltaSnapshot } from './delta-log-reader.js';
import { castExisting, existingSource } from './delta-merge.js';
import { isColumnMapped, physicalName } from './delta-column-mapping.js';
import { partitionFields, partitionValueFromText, writePartitionedFiles } from './delta-partitions.js';
import { dataFileKey } from './delta-paths.js';
import type { StructType } from './delta-schema.js';
import { sqlIdent, sqlString } from './delta-sql.js';

export interface AppendMissingInput {
  readonly connection: DuckDBConnection;
  readonly snapshot: DeltaSnapshot | undefined;
  /** The files this load wrote (uncommitted). */
  readonly batch: readonly AddAction[];
  readonly batchRows: number;
  /** The columns that say whether the table holds a row, as the load names them. */
  readonly compare: readonly string[];
  readonly partitionColumns: readonly string[];
  readonly options: DataFileOptions;
  /** A unique suffix for this load's temp table. */
  readonly tag: string;
}

export interface AppendMissingOutput {
  /** The files to commit: the batch's own when every row was missing, else rewritten ones. */
  readonly adds: AddAction[];
  readonly rowsAppended: number;
  readonly rowsSkipped: number;
}

export async function keepMissingRows(input: AppendMissingInput): Promise<AppendMissingOutput> {
  const { connection, options, batch } = input;
  const existing = input.snapshot === undefined ? [] : [...input.snapshot.files.values()];
  // Nothing held (or nothing loaded): every batch row is missing.
  if (existing.length === 0 || batch.length === 0) {
    return { adds: [...batch], rowsAppended: input.batchRows, rowsSkipped: 0 };
  }
  const compare = compareFields(options.schema, input.compare, options.files.label);
  const cmp = compare.map(sqlIdent);
  const match = cmp.map((c) => `b.${c} IS NOT DISTINCT FROM h.${c}`).join(' AND ');
  const all = options.schema.fields.map((f) => sqlIdent(f.name));
  const batchRelation = await filesRelation(connection, batch, options, input.partitionColumns);
  const heldRelation = await filesRelation(connection, existing, options, input.partitionColumns);
  const missing = `__etld_missing_${input.tag}`;
  await connection.run(
    `CREATE OR REPLACE TEMP TABLE ${missing} AS SELECT ${all.map((c) => `b.${c}`).join(', ')} ` +
      `FROM (SELECT *, row_number() OVER (PARTITION BY ${cmp.join(', ')}) AS __etld_n FROM (${batchRelation})) AS b ` +
      `LEFT JOIN (SELECT ${cmp.join(', ')}, count(*) AS __etld_k FROM (${heldRelation}) GROUP BY ALL) AS h ON ${match} ` +
      `WHERE b.__etld_n > coalesce(h.__etld_k, 0)`,
  );
  try {
    const counted = await connection.runAndReadAll(`SELECT count(*) FROM ${missing}`);
    const rowsAppended = Number(counted.getRows()[0]?.[0] ?? 0);
    const rowsSkipped = input.batchRows - rowsAppended;
    if (rowsSkipped === 0) return { adds: [...batch], rowsAppended, rowsSkipped };
    const select = `SELECT * FROM ${missing}`;
    const adds =
      rowsAppended === 0
        ? []
        : input.partitionColumns.length > 0
          ? await writePartitionedFiles(connection, select, options, input.partitionColumns, input.tag)
          : await writeDataFiles(connection, select, options);
    // The batch's own files are replaced by the rewritten ones (or by none).
    await removeDataFiles(options.files, batch);
    return { adds, rowsAppended, rowsSkipped };
  } finally {
    await connection.run(`DROP TABLE IF EXISTS ${missing}`);
  }
}

/** The compared columns as the table names them (the load's names match them ignoring case). */
function compareFields(schema: StructType, compare: readonly string[], table: string): string[] {
  if (compare.length === 0)
    throw new EtlError('INTERNAL', `append_missing into Delta table ${table} without the columns to compare`);
  return compare.map((name) => {
    const field = schema.fields.find((f) => f.name.toLowerCase() === name.toLowerCase());
    if (field === undefined)
      throw new EtlError(
        'INTERNAL',
        `append_missing compares column ${name}, which Delta table ${table} lacks`,
      );
    return field.name;
  });
}

/**
 * The rows of `files` projected onto the table schema: one read per set of partition values
 * (those values are constants of its files), each cast to the table's column types.
 */
async function filesRelation(
  connection: DuckDBConnection,
  files: readonly AddAction[],
  options: DataFileOptions,
  partitionColumns: readonly string[],
): Promise<string> {
  const groups = new Map<string, AddAction[]>();
  // A column-mapped table keys partition values by physical name.
  const mapped = isColumnMapped(options.configuration);
  const keyOf = (name: string): string => {
    const field = options.schema.fields.find((f) => f.name === name);
    return field === undefined ? name : physicalName(field, mapped);
  };
  for (const add of files) {
    const values = JSON.stringify(partitionColumns.map((c) => add.partitionValues[keyOf(c)] ?? null));
    groups.set(values, [...(groups.get(values) ?? []), add]);
  }
  const partitioned = new Set(partitionColumns);
  const fields = partitionFields(options.schema, partitionColumns, options.files.label);
  const columns = options.schema.fields.map((f) => sqlIdent(f.name)).join(', ');
  const reads: string[] = [];
  for (const [key, adds] of groups) {
    const values = JSON.parse(key) as (string | null)[];
    // Local paths DuckDB reads: in place, or downloaded copies (DeltaFiles).
    const local = await options.files.readable(adds.map((a) => dataFileKey(options.files.store, a.path)));
    const list = local.map(sqlString).join(', ');
    const { source, present } = await existingSource(connection, `[${list}]`, options);
    const constants = fields.map((field, i) => {
      const value = values[i];
      const text = value === null || value === undefined ? 'NULL' : sqlString(value);
      return `${partitionValueFromText(field, text)} AS ${sqlIdent(field.name)}`;
    });
    const data = castExisting(options.schema, present, partitioned);
    reads.push(`SELECT ${columns} FROM (SELECT ${[...data, ...constants].join(', ')} FROM ${source} AS t)`);
  }
  return reads.join(' UNION ALL ');
}
