/**
 * Writes Parquet data files with DuckDB and turns DuckDB's RETURN_STATS into `add` actions.
 * Column casts make every file type equal its Delta type (notes §4): Delta `timestamp` is
 * TIMESTAMPTZ (isAdjustedToUTC), `timestamp_ntz` is TIMESTAMP, `time` becomes fixed-width text.
 */
import type { DuckDBConnection } from '@duckdb/node-api';
import { randomUUID } from 'node:crypto';
import { rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { EtlError } from '../../../shared/errors.js';
import type { ColumnSchema } from '../../../shared/types.js';
import type { AddAction } from './delta-actions.js';
import type { StructType } from './delta-schema.js';
import { duckTypeForDelta } from './delta-schema.js';
import { sqlIdent, sqlString } from './delta-sql.js';
import { encodeStats, leafKey, leafStatsFromJson } from './delta-stats.js';

export interface DataFileOptions {
  readonly tablePath: string;
  /** The table schema after this commit; files hold exactly these columns. */
  readonly schema: StructType;
  readonly configuration: Readonly<Record<string, string>>;
  /** Raw (unencoded) directory names below the table root, e.g. `['k=A']` for a partition. */
  readonly subdirectory?: readonly string[];
}

const CODECS: Readonly<Record<string, string>> = {
  snappy: 'snappy',
  zstd: 'zstd',
  gzip: 'gzip',
  uncompressed: 'uncompressed',
};

/** The SELECT list projecting incoming staged columns onto the table schema. */
export function projectIncoming(schema: StructType, incoming: readonly ColumnSchema[]): string {
  const byName = new Map(incoming.map((c) => [c.name.toLowerCase(), c]));
  return schema.fields
    .map((field) => {
      const duckType = duckTypeForDelta(field.type);
      const column = byName.get(field.name.toLowerCase());
      if (duckType === undefined) {
        throw new EtlError(
          'SCHEMA_MISMATCH',
          `column ${field.name} has a nested Delta type that etld cannot write`,
          { retryable: false },
        );
      }
      if (column === undefined) return `CAST(NULL AS ${duckType}) AS ${sqlIdent(field.name)}`;
      if (column.type.kind === 'time') {
        // Delta has no TIME type: the text form, always with microseconds. PostgreSQL's 24:00:00
        // is a valid time that a date + time would roll over to 00:00 of the next day.
        const time = sqlIdent(column.name);
        return `CASE WHEN ${time} = TIME '24:00:00' THEN '24:00:00.000000' ELSE strftime(DATE '2000-01-01' + ${time}, '%H:%M:%S.%f') END AS ${sqlIdent(field.name)}`;
      }
      return `CAST(${sqlIdent(column.name)} AS ${duckType}) AS ${sqlIdent(field.name)}`;
    })
    .join(', ');
}

/** Fails when a NOT NULL table column would receive nulls (Invariants.scala NotNull), before writing. */
export async function checkNotNull(
  connection: DuckDBConnection,
  schema: StructType,
  relation: string,
  incoming: readonly ColumnSchema[],
  table: string,
): Promise<void> {
  const byName = new Map(incoming.map((c) => [c.name.toLowerCase(), c]));
  const required = schema.fields.filter((f) => !f.nullable);
  if (required.length === 0) return;
  const missing = required.find((f) => !byName.has(f.name.toLowerCase()));
  if (missing) {
    throw new EtlError(
      'SCHEMA_MISMATCH',
      `NOT NULL column ${missing.name} of Delta table ${table} is missing from the incoming rows`,
      { retryable: false },
    );
  }
  const counts = required.map(
    (f, i) =>
      `count(*) FILTER (WHERE ${sqlIdent(byName.get(f.name.toLowerCase())?.name ?? f.name)} IS NULL) AS n${i}`,
  );
  const reader = await connection.runAndReadAll(`SELECT ${counts.join(', ')} FROM ${relation}`);
  const row = reader.getRows()[0] ?? [];
  required.forEach((field, i) => {
    const nulls = Number(row[i] ?? 0);
    if (nulls > 0) {
      throw new EtlError(
        'SCHEMA_MISMATCH',
        `NOT NULL column ${field.name} of Delta table ${table} would receive ${nulls} null value(s)`,
        {
          retryable: false,
        },
      );
    }
  });
}

/** Writes the rows of `select` as one data file; undefined when the query returned no rows. */
export async function writeDataFile(
  connection: DuckDBConnection,
  select: string,
  options: DataFileOptions,
): Promise<AddAction | undefined> {
  const codec =
    CODECS[(options.configuration['delta.parquet.compression.codec'] ?? 'snappy').toLowerCase()] ?? 'snappy';
  const name = `part-00000-${randomUUID()}-c000.${codec === 'uncompressed' ? '' : `${codec}.`}parquet`;
  const relativePath = [...(options.subdirectory ?? []), name].join('/');
  const file = join(options.tablePath, relativePath);
  let reader;
  try {
    reader = await connection.runAndReadAll(
      `COPY (${select}) TO ${sqlString(file)} (FORMAT parquet, COMPRESSION ${codec}, PARQUET_VERSION V1, ROW_GROUP_SIZE 122880, RETURN_STATS)`,
    );
  } catch (cause) {
    await rm(file, { force: true });
    throw new EtlError(
      'DESTINATION_WRITE',
      `cannot write Delta data file ${file}: ${(cause as Error).message}`,
      { cause, retryable: false },
    );
  }
  const row = reader.getRowObjectsJson()[0];
  const count = Number(row?.count ?? 0);
  if (count === 0) {
    await rm(file, { force: true });
    return undefined;
  }
  const nested = new Map<string, number>();
  const nestedFields = options.schema.fields.filter(
    (f) => typeof f.type === 'object' && f.type.type !== 'struct',
  );
  if (nestedFields.length > 0) {
    const counted = await connection.runAndReadAll(
      `SELECT ${nestedFields.map((f) => `count(*) - count(${sqlIdent(f.name)})`).join(', ')} FROM read_parquet(${sqlString(file)})`,
    );
    const values = counted.getRows()[0] ?? [];
    nestedFields.forEach((f, i) => nested.set(leafKey([f.name]), Number(values[i] ?? 0)));
  }
  const configured = Number(options.configuration['delta.dataSkippingNumIndexedCols']);
  const stats = encodeStats(options.schema, count, leafStatsFromJson(row?.column_statistics), {
    numIndexedCols: Number.isInteger(configured) ? configured : 32,
    nestedNullCounts: nested,
  });
  const info = await stat(file);
  return {
    path: relativePath,
    partitionValues: {},
    size: info.size,
    modificationTime: Math.floor(info.mtimeMs),
    dataChange: true,
    stats,
  };
}
