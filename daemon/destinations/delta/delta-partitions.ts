/**
 * Appends to partitioned tables created by Spark or delta-rs: one data file per partition value,
 * in Hive-style directories, partition columns left out of the files and their stats
 * (PROTOCOL.md §Partition Value Serialization; Spark's layout in delta-rs test tables
 * `delta-0.8.0-{partitioned,null-partition,special-partition}`).
 */
import type { DuckDBConnection } from '@duckdb/node-api';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { EtlError } from '../../../shared/errors.js';
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

/** SQL rendering a partition column as its serialized partition value, or undefined if unsupported. */
function partitionValueSql(field: StructField): string | undefined {
  const column = sqlIdent(field.name);
  if (typeof field.type !== 'string') return undefined;
  if (
    ['string', 'byte', 'short', 'integer', 'long', 'date'].includes(field.type) ||
    /^decimal\(/.test(field.type)
  ) {
    return `CAST(${column} AS VARCHAR)`;
  }
  if (field.type === 'boolean') return `CASE WHEN ${column} THEN 'true' WHEN NOT ${column} THEN 'false' END`;
  return undefined;
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
        `UnsupportedTableFeature: partition column ${name} (${field ? deltaTypeToString(field.type) : 'missing'}) of Delta table ${table}; etld writes partitions of string, integer, decimal, date and boolean columns`,
      );
    }
    return field;
  });
}

/**
 * Writes `select` (rows projected onto the full table schema) as one file per partition value.
 * `options.schema` must be the full table schema; the files and stats leave the partition columns out.
 */
export async function writePartitionedFiles(
  connection: DuckDBConnection,
  select: string,
  options: DataFileOptions,
  partitionColumns: readonly string[],
  tag: string,
): Promise<AddAction[]> {
  const parts = partitionFields(options.schema, partitionColumns, options.tablePath);
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
        await mkdir(join(options.tablePath, ...dirs), { recursive: true });
        const written = await writeDataFiles(
          connection,
          `SELECT ${dataFields.map((f) => sqlIdent(f.name)).join(', ')} FROM ${staged} WHERE ${where}`,
          {
            ...options,
            schema: { type: 'struct', fields: dataFields },
            subdirectory: dirs,
          },
        );
        for (const add of written) {
          // The logged path is a URI: percent-encode each directory (Spark logs `x=A%2FA` as `x=A%252FA`).
          const path = [
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
      await removeDataFiles(options.tablePath, adds);
      throw error;
    }
    return adds;
  } finally {
    await connection.run(`DROP TABLE IF EXISTS ${staged}`);
  }
}
