/**
 * Writes Parquet data files with DuckDB and turns DuckDB's RETURN_STATS into `add` actions.
 * Column casts make every file type equal its Delta type: Delta `timestamp` is
 * TIMESTAMPTZ (isAdjustedToUTC), `timestamp_ntz` is TIMESTAMP, `time` becomes fixed-width text.
 */
import type { DuckDBConnection } from '@duckdb/node-api';
import { rm, stat } from 'node:fs/promises';
import { basename } from 'node:path';
import { EtlError } from '../../../shared/errors.js';
import { failWith, markedFailure } from '../../duckdb/duck-sql.js';
import { withoutRowData } from '../../logging/row-data.js';
import type { ColumnSchema } from '../../../shared/types.js';
import type { AddAction } from './delta-actions.js';
import type { DeltaFiles } from './delta-files.js';
import { fieldIdsOption, isColumnMapped, physicalSchema, toPhysicalSelect } from './delta-column-mapping.js';
import type { StructType } from './delta-schema.js';
import { duckTypeForDelta } from './delta-schema.js';
import { dataFileKey } from './delta-paths.js';
import { sqlIdent, sqlString } from './delta-sql.js';
import { encodeStats, leafKey, leafStatsFromJson } from './delta-stats.js';

export interface DataFileOptions {
  /** The table's files: where DuckDB writes, and how finished files reach the table. */
  readonly files: DeltaFiles;
  /** The table schema after this commit; files hold exactly these columns. */
  readonly schema: StructType;
  readonly configuration: Readonly<Record<string, string>>;
  /** Raw (unencoded) directory names below the table root, e.g. `['k=A']` for a partition. */
  readonly subdirectory?: readonly string[];
  /** File name prefix: `part` for data files (the default), `cdc` for change data files, as Spark names them. */
  readonly filePrefix?: 'part' | 'cdc';
  /** Largest data file (bytes) before a new one starts; default DEFAULT_TARGET_FILE_BYTES. */
  readonly targetFileBytes?: number;
}

const CODECS: Readonly<Record<string, string>> = {
  snappy: 'snappy',
  zstd: 'zstd',
  gzip: 'gzip',
  uncompressed: 'uncompressed',
};

/** The SELECT list projecting incoming staged columns onto the table schema. */
/**
 * The SELECT list that turns incoming rows into the table's columns. A NOT NULL column
 * (Invariants.scala NotNull) fails the write on the first null it would receive, as the rows
 * stream through: `table` names the table in that message; a NOT NULL column missing from the
 * incoming rows entirely fails before anything runs.
 */
export function projectIncoming(
  schema: StructType,
  incoming: readonly ColumnSchema[],
  table: string,
): string {
  const byName = new Map(incoming.map((c) => [c.name.toLowerCase(), c]));
  return schema.fields
    .map((field) => {
      const duckType = duckTypeForDelta(field.type);
      const column = byName.get(field.name.toLowerCase());
      if (duckType === undefined) {
        throw new EtlError(
          'SCHEMA_MISMATCH',
          `column ${field.name} has a nested Delta type that etld cannot write`,
        );
      }
      if (column === undefined) {
        if (!field.nullable) {
          throw new EtlError(
            'SCHEMA_MISMATCH',
            `NOT NULL column ${field.name} of Delta table ${table} is missing from the incoming rows`,
          );
        }
        return `CAST(NULL AS ${duckType}) AS ${sqlIdent(field.name)}`;
      }
      let value = `CAST(${sqlIdent(column.name)} AS ${duckType})`;
      if (column.type.kind === 'time') {
        // Delta has no TIME type: the text form, always with microseconds. PostgreSQL's 24:00:00
        // is a valid time that a date + time would roll over to 00:00 of the next day.
        const time = sqlIdent(column.name);
        value = `CASE WHEN ${time} = TIME '24:00:00' THEN '24:00:00.000000' ELSE strftime(DATE '2000-01-01' + ${time}, '%H:%M:%S.%f') END`;
      }
      if (!field.nullable) {
        const failure = failWith(
          'SCHEMA_MISMATCH',
          sqlString(`NOT NULL column ${field.name} of Delta table ${table} would receive a null value`),
        );
        value = `CASE WHEN ${sqlIdent(column.name)} IS NULL THEN ${failure} ELSE ${value} END`;
      }
      return `${value} AS ${sqlIdent(field.name)}`;
    })
    .join(', ');
}

/**
 * Rows per Parquet row group. The writer holds a row group per thread in memory until it is full,
 * and two parts write at once within the run's memory limit; 65,536 rows of a dozen columns is a
 * few MB, still large enough for readers to skip by statistics.
 */
const ROW_GROUP_ROWS = 65_536;

/** Default largest data file: big enough for few files per run, small enough for parallel readers. */
export const DEFAULT_TARGET_FILE_BYTES = 128 * 1024 * 1024;

/**
 * Writes the rows of `select` as data files of at most about `targetFileBytes` each (DuckDB starts
 * a new file once a file passes it) into a staging directory (DeltaFiles.stagingDir), then places
 * each in the table under Delta's file names; returns one `add` per non-empty file (none when the query returned no rows). No file is
 * referenced by the log yet: the caller commits the adds or removes them.
 */
export async function writeDataFiles(
  connection: DuckDBConnection,
  select: string,
  options: DataFileOptions,
): Promise<AddAction[]> {
  const codec =
    CODECS[(options.configuration['delta.parquet.compression.codec'] ?? 'snappy').toLowerCase()] ?? 'snappy';
  const { files } = options;
  const directory = [files.label, ...(options.subdirectory ?? [])].join('/');
  const staging = await files.stagingDir();
  const pattern = `${options.filePrefix ?? 'part'}-00000-{uuid}-c000${codec === 'uncompressed' ? '' : `.${codec}`}`;
  const targetBytes = options.targetFileBytes ?? DEFAULT_TARGET_FILE_BYTES;
  // A column-mapped table's files name columns by physical name and carry field ids; so do stats.
  const mapped = isColumnMapped(options.configuration);
  const fileSchema = physicalSchema(options.schema, mapped);
  const rows = mapped
    ? `SELECT ${toPhysicalSelect(options.schema)} FROM (${select}) AS logical_rows`
    : select;
  const fieldIds = mapped ? fieldIdsOption(options.schema) : '';
  const placed: AddAction[] = [];
  try {
    const reader = await connection.runAndReadAll(
      `COPY (${rows}) TO ${sqlString(staging)} (FORMAT parquet, COMPRESSION ${codec}, PARQUET_VERSION V1, ` +
        `ROW_GROUP_SIZE ${ROW_GROUP_ROWS}, FILE_SIZE_BYTES ${targetBytes}, FILENAME_PATTERN ${sqlString(pattern)}${fieldIds}, RETURN_STATS)`,
    );
    for (const row of reader.getRowObjectsJson()) {
      const count = Number(row.count ?? 0);
      if (count === 0) continue;
      const staged = typeof row.filename === 'string' ? row.filename : JSON.stringify(row.filename);
      const add = await addFor(connection, staged, count, row.column_statistics, {
        ...options,
        schema: fileSchema,
      });
      await files.place(staged, add.path);
      placed.push(add);
    }
    return placed;
  } catch (cause) {
    await removeDataFiles(files, placed);
    if (cause instanceof EtlError) throw cause;
    const marked = markedFailure(cause);
    if (marked !== undefined) throw marked;
    throw new EtlError(
      'DESTINATION_WRITE',
      `cannot write Delta data files in ${directory}: ${withoutRowData((cause as Error).message)}`,
      { cause, retryable: false },
    );
  } finally {
    await rm(staging, { recursive: true, force: true });
  }
}

/** Removes data files a load wrote but did not commit. */
export async function removeDataFiles(
  files: DeltaFiles,
  adds: readonly Pick<AddAction, 'path'>[],
): Promise<void> {
  await files.store.delete(adds.map((a) => dataFileKey(files.store, a.path)));
}

async function addFor(
  connection: DuckDBConnection,
  file: string,
  count: number,
  columnStatistics: unknown,
  options: DataFileOptions,
): Promise<AddAction> {
  const name = basename(file);
  const relativePath = [...(options.subdirectory ?? []), name].join('/');
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
  const stats = encodeStats(options.schema, count, leafStatsFromJson(columnStatistics), {
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
