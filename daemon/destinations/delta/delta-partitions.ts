/**
 * Partitioned tables: one data file per partition value, in Hive-style directories, partition
 * columns left out of the files and their stats, values serialized into `partitionValues`
 * (PROTOCOL.md §Partition Value Serialization; Spark's layout in delta-rs test tables
 * `delta-0.8.0-{partitioned,null-partition,special-partition}`). Also the way back: the SQL that
 * turns a logged partition value into the column's value, for merges reading old files.
 */
import type { DuckDBConnection } from '@duckdb/node-api';
import { EtlError } from '../../../shared/errors.js';
import type { CanonicalType, ColumnSchema } from '../../../shared/types.js';
import type { AddAction } from './delta-actions.js';
import { isColumnMapped, physicalName } from './delta-column-mapping.js';
import type { DataFileOptions } from './delta-data-writer.js';
import { removeDataFiles, writeDataFiles } from './delta-data-writer.js';
import type { StructField, StructType } from './delta-schema.js';
import { deltaTypeToString } from './delta-schema.js';
import { sqlIdent, sqlString } from './delta-sql.js';

const HIVE_NULL = '__HIVE_DEFAULT_PARTITION__';
/** Characters Hive escapes in partition directory names (Spark `ExternalCatalogUtils.escapePathName`). */
const HIVE_ESCAPED = new Set([
  '"',
  '#',
  '%',
  "'",
  '*',
  '/',
  ':',
  '=',
  '?',
  '\\',
  '\u007f',
  '{',
  '[',
  ']',
  '^',
]);

function hiveEscape(value: string): string {
  let out = '';
  for (const char of value) {
    const code = char.codePointAt(0) ?? 0;
    out +=
      code < 0x20 || HIVE_ESCAPED.has(char) ? `%${code.toString(16).toUpperCase().padStart(2, '0')}` : char;
  }
  return out;
}

const INTEGRAL = new Set(['byte', 'short', 'integer', 'long']);

/**
 * SQL rendering a partition column as its serialized partition value, or undefined if etld does
 * not write that type. An empty string becomes null: the protocol reads `""` as null for every
 * type, so Spark writes it to `__HIVE_DEFAULT_PARTITION__` and logs null. Timestamps use the
 * protocol's recommended ISO-8601 UTC form with microseconds; timestamp_ntz the plain
 * `YYYY-MM-DD HH:MM:SS.ffffff`.
 */
function partitionValueSql(field: StructField): string | undefined {
  const column = sqlIdent(field.name);
  if (typeof field.type !== 'string') return undefined;
  if (field.type === 'string') return `NULLIF(${column}, '')`;
  if (INTEGRAL.has(field.type) || field.type === 'date' || /^decimal\(/.test(field.type)) {
    return `CAST(${column} AS VARCHAR)`;
  }
  if (field.type === 'boolean') return `CASE WHEN ${column} THEN 'true' WHEN NOT ${column} THEN 'false' END`;
  if (field.type === 'timestamp') return `strftime(timezone('UTC', ${column}), '%Y-%m-%dT%H:%M:%S.%fZ')`;
  if (field.type === 'timestamp_ntz') return `strftime(${column}, '%Y-%m-%d %H:%M:%S.%f')`;
  return undefined;
}

/**
 * SQL turning `text`, a logged partition value, into the value of `field` (the inverse of
 * `partitionValueSql`, and lenient where other writers differ: Spark logs timestamps as
 * `YYYY-MM-DD HH:MM:SS[.f]`, read here as UTC as delta-rs does).
 */
export function partitionValueFromText(field: StructField, text: string): string {
  const value = `NULLIF(${text}, '')`;
  const type = typeof field.type === 'string' ? field.type : '';
  if (type === 'string') return value;
  if (type === 'boolean') return `CASE lower(${value}) WHEN 'true' THEN true WHEN 'false' THEN false END`;
  if (type === 'timestamp') {
    return `CASE WHEN regexp_matches(${value}, '(Z|[+-]\\d\\d(:?\\d\\d)?)$') THEN CAST(${value} AS TIMESTAMPTZ) ELSE timezone('UTC', CAST(${value} AS TIMESTAMP)) END`;
  }
  const duck: Record<string, string> = {
    byte: 'TINYINT',
    short: 'SMALLINT',
    integer: 'INTEGER',
    long: 'BIGINT',
    date: 'DATE',
    timestamp_ntz: 'TIMESTAMP',
  };
  const decimal = /^decimal\((\d+),(\d+)\)$/.exec(type);
  const target = decimal ? `DECIMAL(${decimal[1]},${decimal[2]})` : duck[type];
  if (target === undefined) {
    throw new EtlError('INTERNAL', `no partition value parser for column ${field.name} (${type})`);
  }
  return `CAST(${value} AS ${target})`;
}

/** Why etld does not create partitions of a canonical type, or undefined when it does. */
function unpartitionable(type: CanonicalType): string | undefined {
  switch (type.kind) {
    case 'float32':
    case 'float64':
      return 'a float has no exact text form that every reader parses back to the same value';
    case 'bytes':
      return 'binary partition values have no escaping that readers agree on';
    case 'json':
      return 'a JSON document is unbounded text whose equal values can differ in spelling';
    case 'time':
      return 'Delta has no time type (etld stores it as text)';
    default:
      return undefined;
  }
}

/**
 * Validates `partition_by` for a table etld creates from `incoming` columns; returns the names as
 * the columns spell them (Delta names are case-insensitive). Each refusal names the column.
 */
function planPartitionBy(
  partitionBy: readonly string[],
  incoming: readonly ColumnSchema[],
  table: string,
): string[] {
  const seen = new Set<string>();
  const names = partitionBy.map((name) => {
    const column = incoming.find((c) => c.name.toLowerCase() === name.toLowerCase());
    if (column === undefined) {
      throw new EtlError(
        'CONFIG_INVALID',
        `partition_by column ${name} is not a column of the rows loaded into Delta table ${table}`,
      );
    }
    const reason = unpartitionable(column.type);
    if (reason !== undefined) {
      throw new EtlError(
        'CONFIG_INVALID',
        `partition_by column ${column.name} (${column.type.kind}) of Delta table ${table} cannot be a partition column: ${reason}`,
      );
    }
    if (seen.has(column.name.toLowerCase())) {
      throw new EtlError('CONFIG_INVALID', `partition_by names column ${column.name} twice`);
    }
    seen.add(column.name.toLowerCase());
    return column.name;
  });
  if (names.length >= incoming.length) {
    // Spark refuses it too: a data file must hold at least one column.
    throw new EtlError(
      'CONFIG_INVALID',
      `partition_by (${names.join(', ')}) names every column of Delta table ${table}; at least one must stay in the data files`,
    );
  }
  return names;
}

/**
 * The partitioning a load uses: an existing table's own, or `partition_by` for a new table.
 * A `partition_by` that differs from an existing table's partitioning is refused with both lists.
 */
export function planPartitioning(
  existing: readonly string[] | undefined,
  partitionBy: readonly string[] | undefined,
  incoming: readonly ColumnSchema[],
  table: string,
): string[] {
  if (existing === undefined) return partitionBy ? planPartitionBy(partitionBy, incoming, table) : [];
  if (partitionBy !== undefined) {
    const same =
      partitionBy.length === existing.length &&
      partitionBy.every((name, i) => name.toLowerCase() === existing[i]?.toLowerCase());
    if (!same) {
      throw new EtlError(
        'CONFIG_INVALID',
        `partition_by [${partitionBy.join(', ')}] conflicts with the partitioning of Delta table ${table} [${existing.join(', ')}]; a table's partition columns cannot change`,
      );
    }
  }
  return [...existing];
}

export function partitionFields(
  schema: StructType,
  partitionColumns: readonly string[],
  table: string,
): StructField[] {
  return partitionColumns.map((name) => {
    const field = schema.fields.find((f) => f.name === name);
    if (field === undefined || partitionValueSql(field) === undefined) {
      throw new EtlError(
        'UNSUPPORTED_TABLE_FEATURE',
        `UnsupportedTableFeature: partition column ${name} (${field ? deltaTypeToString(field.type) : 'missing'}) of Delta table ${table}; etld writes partitions of string, integer, decimal, date, boolean and timestamp columns`,
      );
    }
    return field;
  });
}

/**
 * Writes `select` (rows projected onto the full table schema) as one file per partition value.
 * `options.schema` must be the full table schema; the files and stats leave the partition columns out.
 * `options.subdirectory`, if given, is the directory the partition directories go below.
 */
export async function writePartitionedFiles(
  connection: DuckDBConnection,
  select: string,
  options: DataFileOptions,
  partitionColumns: readonly string[],
  tag: string,
): Promise<AddAction[]> {
  const parts = partitionFields(options.schema, partitionColumns, options.files.label);
  // Change data files go below `_change_data`, in the same partition directories (PROTOCOL.md §Change Data Files).
  const prefix = options.subdirectory ?? [];
  // Column-mapped tables key partition values (and name directories) by physical name ([P] §Column Mapping).
  const mapped = isColumnMapped(options.configuration);
  const partNames = new Set(partitionColumns);
  const dataFields = options.schema.fields.filter((f) => !partNames.has(f.name));
  const staged = `__etld_parts_${tag}`;
  await connection.run(
    `CREATE OR REPLACE TEMP TABLE ${staged} AS SELECT *, ${parts.map((f, i) => `${partitionValueSql(f) ?? 'NULL'} AS __etld_pv${i}`).join(', ')} FROM (${select})`,
  );
  try {
    const distinct = await connection.runAndReadAll(
      `SELECT DISTINCT ${parts.map((_, i) => `__etld_pv${i}`).join(', ')} FROM ${staged}`,
    );
    const adds: AddAction[] = [];
    try {
      for (const row of distinct.getRows()) {
        const values = row.map((v) => (v === null ? null : String(v)));
        const dirs = parts.map(
          (f, i) =>
            `${hiveEscape(physicalName(f, mapped))}=${values[i] === null ? HIVE_NULL : hiveEscape(values[i] ?? '')}`,
        );
        const where = values
          .map((v, i) => `__etld_pv${i} IS NOT DISTINCT FROM ${v === null ? 'NULL' : sqlString(v)}`)
          .join(' AND ');
        const written = await writeDataFiles(
          connection,
          `SELECT ${dataFields.map((f) => sqlIdent(f.name)).join(', ')} FROM ${staged} WHERE ${where}`,
          {
            ...options,
            schema: { type: 'struct', fields: dataFields },
            subdirectory: [...prefix, ...dirs],
          },
        );
        for (const add of written) {
          // The logged path is a URI: percent-encode each directory (Spark logs `x=A%2FA` as `x=A%252FA`).
          const path = [
            ...prefix,
            ...dirs.map((d) => encodeURIComponent(d).replaceAll('%3D', '=')),
            add.path.split('/').at(-1) ?? '',
          ].join('/');
          adds.push({
            ...add,
            path,
            partitionValues: Object.fromEntries(
              parts.map((f, i) => [physicalName(f, mapped), values[i] ?? null]),
            ),
          });
        }
      }
    } catch (error) {
      // The partitions written so far are in the table directory, unreferenced: take them back.
      await removeDataFiles(options.files, adds);
      throw error;
    }
    return adds;
  } finally {
    await connection.run(`DROP TABLE IF EXISTS ${staged}`);
  }
}
