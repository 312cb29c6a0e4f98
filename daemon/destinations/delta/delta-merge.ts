/**
 * Merge (upsert by key) as copy-on-write: the files holding any incoming key are rewritten without
 * those rows, the newest incoming row per key is added, and both go into one commit as removes and
 * adds. DuckDB does the key join; files without matches are left untouched.
 */
import type { DuckDBConnection } from '@duckdb/node-api';
import { EtlError } from '../../../shared/errors.js';
import type { AddAction } from './delta-actions.js';
import { isColumnMapped, logicalFilesSql } from './delta-column-mapping.js';
import type { DeltaSnapshot } from './delta-log-reader.js';
import type { StructType } from './delta-schema.js';
import { duckTypeForDelta } from './delta-schema.js';
import { dataFilePath } from './delta-paths.js';
import { sqlIdent, sqlString } from './delta-sql.js';
import type { DataFileOptions } from './delta-data-writer.js';
import { writeDataFiles } from './delta-data-writer.js';

export interface MergeInput {
  readonly connection: DuckDBConnection;
  readonly snapshot: DeltaSnapshot | undefined;
  /** SELECT list projecting the staged rows onto the table schema. */
  readonly projection: string;
  readonly relation: string;
  /** Key column names as in the table schema. */
  readonly keys: readonly string[];
  /** Cursor column as in the staged relation; newest row per key wins by it, then by staging order. */
  readonly cursor: string | undefined;
  readonly options: DataFileOptions;
  /** A unique suffix for the temp table names of this run. */
  readonly tag: string;
}

export interface MergeOutput {
  readonly adds: AddAction[];
  /** The live files rewritten (to be removed in the same commit). */
  readonly replaced: AddAction[];
  readonly rowsUpserted: number;
}

function projectExisting(schema: StructType, present: ReadonlySet<string>): string {
  return schema.fields
    .map((field) => {
      const duckType = duckTypeForDelta(field.type);
      const column = sqlIdent(field.name);
      if (!present.has(field.name.toLowerCase())) {
        if (duckType === undefined)
          throw new EtlError('SCHEMA_MISMATCH', `column ${field.name} is missing from an existing data file`);
        return `CAST(NULL AS ${duckType}) AS ${column}`;
      }
      // Casting normalises older encodings (e.g. Spark's INT96 timestamps) to the table type.
      return duckType === undefined ? column : `CAST(${column} AS ${duckType}) AS ${column}`;
    })
    .join(', ');
}

/** The column names (lower case) of the union of Parquet `files` (a SQL list of paths). */
async function columnsOf(connection: DuckDBConnection, files: string): Promise<Set<string>> {
  const described = await connection.runAndReadAll(
    `DESCRIBE SELECT * FROM read_parquet([${files}], union_by_name = true)`,
  );
  return new Set((described.getColumns()[0] ?? []).map((n) => String(n).toLowerCase()));
}

export async function mergeFiles(input: MergeInput): Promise<MergeOutput> {
  const { connection, keys, options } = input;
  const incoming = `__etld_merge_in_${input.tag}`;
  const partition = keys.map(sqlIdent).join(', ');
  const projectedNames = options.schema.fields.map((f) => sqlIdent(f.name)).join(', ');
  const cursor = input.cursor === undefined ? 'NULL' : sqlIdent(input.cursor);
  // rowid is the staging order of the (base) table: with no cursor, the last staged row per key wins.
  await connection.run(
    `CREATE OR REPLACE TEMP TABLE ${incoming} AS SELECT ${projectedNames} FROM (` +
      `SELECT ${input.projection}, ${cursor} AS __etld_cursor, rowid AS __etld_ord FROM ${input.relation}) ` +
      `QUALIFY row_number() OVER (PARTITION BY ${partition} ORDER BY __etld_cursor DESC NULLS LAST, __etld_ord DESC) = 1`,
  );
  try {
    const live = input.snapshot ? [...input.snapshot.files.values()] : [];
    const byFile = new Map(live.map((add) => [dataFilePath(options.tablePath, add.path), add]));
    let replaced: AddAction[] = [];
    let keep = '';
    if (byFile.size > 0) {
      const files = [...byFile.keys()].map(sqlString).join(', ');
      const on = keys.map((k) => `t.${sqlIdent(k)} = i.${sqlIdent(k)}`).join(' AND ');
      // Files of a column-mapped table name columns by physical name: read them by logical name.
      const mapped = isColumnMapped(options.configuration);
      const physical = mapped ? await columnsOf(connection, files) : new Set<string>();
      const existing = (list: string, withFilename: boolean): string =>
        mapped
          ? logicalFilesSql(options.schema, list, physical, withFilename)
          : `read_parquet([${list}]${withFilename ? ', filename = true' : ''}, union_by_name = true)`;
      const matched = await connection.runAndReadAll(
        `SELECT DISTINCT t.filename FROM ${existing(files, true)} t SEMI JOIN ${incoming} i ON ${on}`,
      );
      replaced =
        matched
          .getColumns()[0]
          ?.map((f) => byFile.get(String(f)))
          .filter((a): a is AddAction => a !== undefined) ?? [];
      if (replaced.length > 0) {
        const rewrite = replaced.map((a) => sqlString(dataFilePath(options.tablePath, a.path))).join(', ');
        const present = mapped
          ? new Set(options.schema.fields.map((f) => f.name.toLowerCase()))
          : await columnsOf(connection, rewrite);
        keep =
          `SELECT ${projectExisting(options.schema, present)} FROM ${existing(rewrite, false)} t ` +
          `ANTI JOIN ${incoming} i ON ${on} UNION ALL `;
      }
    }
    const counted = await connection.runAndReadAll(`SELECT count(*) FROM ${incoming}`);
    const rowsUpserted = Number(counted.getRows()[0]?.[0] ?? 0);
    const adds = await writeDataFiles(connection, `${keep}SELECT * FROM ${incoming}`, options);
    return { adds, replaced, rowsUpserted };
  } finally {
    await connection.run(`DROP TABLE IF EXISTS ${incoming}`);
  }
}
