/**
 * Merge (upsert by key) as copy-on-write: the files holding an incoming key whose row changes are
 * rewritten without those rows, the newest incoming row per key is added, and both go into one
 * commit as removes and adds. DuckDB does the key join; files without changed matches are left
 * untouched. An incoming row identical to the only row the table holds for its key changes
 * nothing and rewrites nothing.
 *
 * Partitioned tables: old files are read back with their partition values from the log (the files
 * do not hold them); when the key includes every partition column, only files of the partitions
 * the incoming rows fall in are read. Rows are written back through the partitioned writer, so a
 * row whose partition value changes moves to its new partition.
 *
 * Change data feed (`delta.enableChangeDataFeed`): when files are rewritten, the commit also
 * carries `_change_data` files with exactly the changed rows (PROTOCOL.md §Change Data Files),
 * because readers take a version's cdc files instead of its adds and removes. A commit that only
 * adds files needs none: readers read its adds as inserts.
 */
import type { DuckDBConnection } from '@duckdb/node-api';
import { EtlError } from '../../../shared/errors.js';
import type { AddAction, CdcAction } from './delta-actions.js';
import { isColumnMapped, physicalName } from './delta-column-mapping.js';
import type { DeltaSnapshot } from './delta-log-reader.js';
import type { StructType } from './delta-schema.js';
import { duckTypeForDelta } from './delta-schema.js';
import { dataFileKey } from './delta-paths.js';
import { sqlIdent, sqlString } from './delta-sql.js';
import type { DataFileOptions } from './delta-data-writer.js';
import { writeDataFiles } from './delta-data-writer.js';
import { partitionFields, partitionValueFromText, writePartitionedFiles } from './delta-partitions.js';

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
  readonly partitionColumns: readonly string[];
  /** Write change data files (the table has `delta.enableChangeDataFeed=true`). */
  readonly changeDataFeed: boolean;
  /** A unique suffix for the temp table names of this run. */
  readonly tag: string;
}

export interface MergeOutput {
  readonly adds: AddAction[];
  /** The live files rewritten (to be removed in the same commit). */
  readonly replaced: AddAction[];
  /** Change data files of this merge (empty unless files were rewritten in a CDF table). */
  readonly cdc: CdcAction[];
  readonly rowsUpserted: number;
  readonly inserted: number;
  readonly updated: number;
  readonly deleted: number;
}

/** The column DuckDB names each row's file in (a name no Delta column takes: see `read`). */
const FILE_COLUMN = '__etld_file';

/**
 * The SELECT list reading `schema`'s columns from existing files aliased `t` (cast to the table
 * types; a column a file lacks reads NULL), leaving out `skip` (partition columns).
 */
export function castExisting(
  schema: StructType,
  present: ReadonlySet<string>,
  skip: ReadonlySet<string>,
): string[] {
  return schema.fields
    .filter((field) => !skip.has(field.name))
    .map((field) => {
      const duckType = duckTypeForDelta(field.type);
      const column = sqlIdent(field.name);
      if (!present.has(field.name.toLowerCase())) {
        if (duckType === undefined)
          throw new EtlError('SCHEMA_MISMATCH', `column ${field.name} is missing from an existing data file`);
        return `CAST(NULL AS ${duckType}) AS ${column}`;
      }
      // Casting normalises older encodings (e.g. Spark's INT96 timestamps) to the table type.
      return duckType === undefined ? `t.${column}` : `CAST(t.${column} AS ${duckType}) AS ${column}`;
    });
}

/**
 * Existing data files of `list` (a DuckDB list literal) as a relation with the table's logical
 * column names, and the (lower-case) columns the files hold. A column-mapped table's files name
 * columns by physical name ([P] §Column Mapping): they are renamed here. Hive partitioning is off:
 * the log's partition values are the truth, not directory names.
 */
export async function existingSource(
  connection: DuckDBConnection,
  list: string,
  options: Pick<DataFileOptions, 'schema' | 'configuration'>,
  fileColumn?: string,
): Promise<{ source: string; present: Set<string> }> {
  const withFile = fileColumn === undefined ? '' : `, filename = ${sqlString(fileColumn)}`;
  const raw = `read_parquet(${list}${withFile}, union_by_name = true, hive_partitioning = false)`;
  const described = await connection.runAndReadAll(`DESCRIBE SELECT * FROM ${raw}`);
  const names = new Set((described.getColumns()[0] ?? []).map((n) => String(n).toLowerCase()));
  if (!isColumnMapped(options.configuration)) return { source: raw, present: names };
  const held = options.schema.fields.filter((f) => names.has(physicalName(f, true).toLowerCase()));
  const columns = held.map((f) => `${sqlIdent(physicalName(f, true))} AS ${sqlIdent(f.name)}`);
  if (fileColumn !== undefined) columns.push(sqlIdent(fileColumn));
  return {
    source: `(SELECT ${columns.join(', ')} FROM ${raw})`,
    present: new Set(held.map((f) => f.name.toLowerCase())),
  };
}

class ExistingFiles {
  readonly #input: MergeInput;
  /** Temp table of every live file: its path as DuckDB reports it and its raw partition values. */
  readonly #table: string;
  readonly #byPath: Map<string, AddAction>;
  readonly #pathOf: Map<AddAction, string>;

  /** `local[i]` is the local path DuckDB reads `live[i]` at (DeltaFiles.readable). */
  constructor(input: MergeInput, live: readonly AddAction[], local: readonly string[]) {
    this.#input = input;
    this.#table = `__etld_merge_files_${input.tag}`;
    this.#byPath = new Map(live.map((add, i) => [local[i] ?? '', add]));
    this.#pathOf = new Map(live.map((add, i) => [add, local[i] ?? '']));
  }

  /** Where DuckDB reads a live file. */
  localPath(add: AddAction): string {
    const path = this.#pathOf.get(add);
    if (path === undefined) throw new EtlError('INTERNAL', `no local copy of Delta data file ${add.path}`);
    return path;
  }

  get table(): string {
    return this.#table;
  }

  /** The `partitionValues` key of a partition column: its physical name in a column-mapped table. */
  #partitionKey(name: string): string {
    const field = this.#input.options.schema.fields.find((f) => f.name === name);
    return field === undefined
      ? name
      : physicalName(field, isColumnMapped(this.#input.options.configuration));
  }

  async create(): Promise<void> {
    const parts = this.#input.partitionColumns;
    const columns = [FILE_COLUMN, ...parts.map((_, i) => `__etld_pv${i}`)];
    await this.#input.connection.run(
      `CREATE OR REPLACE TEMP TABLE ${this.#table} (${columns.map((c) => `${c} VARCHAR`).join(', ')})`,
    );
    const rows = [...this.#byPath].map(([path, add]) =>
      [path, ...parts.map((p) => add.partitionValues[this.#partitionKey(p)] ?? null)]
        .map((v) => (v === null ? 'NULL' : sqlString(v)))
        .join(', '),
    );
    for (let start = 0; start < rows.length; start += 1000) {
      const chunk = rows.slice(start, start + 1000);
      await this.#input.connection.run(
        `INSERT INTO ${this.#table} VALUES ${chunk.map((r) => `(${r})`).join(', ')}`,
      );
    }
  }

  paths(): string[] {
    return [...this.#byPath.keys()];
  }

  add(path: string): AddAction | undefined {
    return this.#byPath.get(path);
  }

  /** The parsed partition value of column `i` of a row of the files table aliased `f`. */
  partitionValue(i: number): string {
    const name = this.#input.partitionColumns[i] ?? '';
    const field = partitionFields(this.#input.options.schema, [name], this.#input.options.files.label)[0];
    if (field === undefined) throw new EtlError('INTERNAL', `no partition column ${name}`);
    return partitionValueFromText(field, `f.__etld_pv${i}`);
  }

  /**
   * SELECT of the rows of `paths` with every table column (partition columns from the log) and the
   * file each row came from. Hive partitioning is off: directories are only a naming convention.
   */
  async read(paths: readonly string[]): Promise<string> {
    const { connection, options, partitionColumns } = this.#input;
    const list = `[${paths.map(sqlString).join(', ')}]`;
    const { source, present } = await existingSource(connection, list, options, FILE_COLUMN);
    const parts = new Set(partitionColumns);
    const data = castExisting(options.schema, present, parts);
    const byName = new Map<string, string>();
    options.schema.fields
      .filter((f) => !parts.has(f.name))
      .forEach((f, i) => byName.set(f.name, data[i] ?? ''));
    partitionColumns.forEach((name, i) => byName.set(name, `${this.partitionValue(i)} AS ${sqlIdent(name)}`));
    const select = options.schema.fields.map((f) => byName.get(f.name) ?? '').join(', ');
    const join =
      partitionColumns.length > 0 ? ` JOIN ${this.#table} f ON f.${FILE_COLUMN} = t.${FILE_COLUMN}` : '';
    return `SELECT ${select}, t.${FILE_COLUMN} FROM ${source} t${join}`;
  }
}

export async function mergeFiles(input: MergeInput): Promise<MergeOutput> {
  const { connection, keys, options, partitionColumns, tag } = input;
  const incoming = `__etld_merge_in_${tag}`;
  const effective = `__etld_merge_eff_${tag}`;
  const matched = `__etld_merge_matched_${tag}`;
  const byKey = keys.map(sqlIdent).join(', ');
  const columns = options.schema.fields.map((f) => sqlIdent(f.name));
  const cursor = input.cursor === undefined ? 'NULL' : sqlIdent(input.cursor);
  const on = (a: string, b: string) =>
    keys.map((k) => `${a}.${sqlIdent(k)} = ${b}.${sqlIdent(k)}`).join(' AND ');
  // An empty string in a string partition column is stored as null (see delta-partitions.ts):
  // compare and write it as null from the start, so an unchanged row is recognised as such.
  const partitioned = new Set(
    partitionFields(options.schema, partitionColumns, options.files.label)
      .filter((f) => f.type === 'string')
      .map((f) => f.name),
  );
  const incomingColumns = options.schema.fields.map((f) =>
    partitioned.has(f.name) ? `NULLIF(${sqlIdent(f.name)}, '') AS ${sqlIdent(f.name)}` : sqlIdent(f.name),
  );
  // rowid is the staging order of the (base) table: with no cursor, the last staged row per key wins.
  await connection.run(
    `CREATE OR REPLACE TEMP TABLE ${incoming} AS SELECT ${incomingColumns.join(', ')} FROM (` +
      `SELECT ${input.projection}, ${cursor} AS __etld_cursor, rowid AS __etld_ord FROM ${input.relation}) ` +
      `QUALIFY row_number() OVER (PARTITION BY ${byKey} ORDER BY __etld_cursor DESC NULLS LAST, __etld_ord DESC) = 1`,
  );
  const live = input.snapshot ? [...input.snapshot.files.values()] : [];
  // Local paths DuckDB reads: the files in place, or downloaded copies (DeltaFiles). Every live
  // file is fetched: finding the files that hold an incoming key reads them all.
  const local =
    live.length === 0
      ? []
      : await options.files.readable(live.map((add) => dataFileKey(options.files.store, add.path)));
  const files = new ExistingFiles(input, live, local);
  try {
    const rowsUpserted = await count(connection, `SELECT count(*) FROM ${incoming}`);
    let replaced: AddAction[] = [];
    let keep = '';
    let candidates: string[] = [];
    if (live.length > 0) {
      await files.create();
      candidates = await candidateFiles(input, files, incoming);
    }
    if (candidates.length > 0) {
      // Old rows of the incoming keys, ranked per key: a row equal to the incoming one first.
      const same = columns.map((c) => `e.${c} IS NOT DISTINCT FROM i.${c}`).join(' AND ');
      await connection.run(
        `CREATE OR REPLACE TEMP TABLE ${matched} AS SELECT *, ` +
          `row_number() OVER (PARTITION BY ${byKey} ORDER BY __etld_same DESC) AS __etld_rank, ` +
          `count(*) OVER (PARTITION BY ${byKey}) AS __etld_n FROM (` +
          `SELECT e.*, (${same}) AS __etld_same FROM (${await files.read(candidates)}) e JOIN ${incoming} i ON ${on('e', 'i')})`,
      );
      const names = await connection.runAndReadAll(
        `SELECT DISTINCT ${FILE_COLUMN} FROM ${matched} WHERE NOT (__etld_n = 1 AND __etld_same)`,
      );
      replaced = (names.getColumns()[0] ?? [])
        .map((f) => files.add(String(f)))
        .filter((a): a is AddAction => a !== undefined);
    } else {
      await connection.run(
        `CREATE OR REPLACE TEMP TABLE ${matched} AS SELECT *, NULL::VARCHAR AS ${FILE_COLUMN}, false AS __etld_same, ` +
          `0::BIGINT AS __etld_rank, 0::BIGINT AS __etld_n FROM ${incoming} LIMIT 0`,
      );
    }
    // A key whose only old row equals the incoming row is left as it is.
    await connection.run(
      `CREATE OR REPLACE TEMP TABLE ${effective} AS SELECT * FROM ${incoming} i ANTI JOIN ` +
        `(SELECT ${byKey} FROM ${matched} WHERE __etld_n = 1 AND __etld_same) u ON ${on('i', 'u')}`,
    );
    if (replaced.length > 0) {
      const paths = replaced.map((a) => files.localPath(a));
      keep =
        `SELECT ${columns.map((c) => `e.${c}`).join(', ')} FROM (${await files.read(paths)}) e ` +
        `ANTI JOIN ${effective} i ON ${on('e', 'i')} UNION ALL `;
    }
    const changes = changeRows(matched, effective, columns, byKey, on);
    const counted = await connection.runAndReadAll(
      `SELECT _change_type, count(*) FROM (${changes}) GROUP BY ALL`,
    );
    const tally = new Map(counted.getRows().map(([type, n]) => [String(type), Number(n)]));
    const write = (select: string, opts: DataFileOptions, suffix: string) =>
      partitionColumns.length > 0
        ? writePartitionedFiles(connection, select, opts, partitionColumns, `${tag}${suffix}`)
        : writeDataFiles(connection, select, opts);
    const adds = await write(`${keep}SELECT ${columns.join(', ')} FROM ${effective}`, options, 'd');
    let cdc: CdcAction[] = [];
    if (input.changeDataFeed && replaced.length > 0) {
      const cdcSchema: StructType = {
        type: 'struct',
        fields: [
          ...options.schema.fields,
          { name: '_change_type', type: 'string', nullable: true, metadata: {} },
        ],
      };
      const written = await write(
        changes,
        { ...options, schema: cdcSchema, subdirectory: ['_change_data'], filePrefix: 'cdc' },
        'c',
      );
      cdc = written.map((a) => ({
        path: a.path,
        partitionValues: a.partitionValues,
        size: a.size,
        dataChange: false,
      }));
    }
    return {
      adds,
      replaced,
      cdc,
      rowsUpserted,
      inserted: tally.get('insert') ?? 0,
      updated: tally.get('update_postimage') ?? 0,
      deleted: tally.get('delete') ?? 0,
    };
  } finally {
    for (const name of [incoming, effective, matched, files.table]) {
      await connection.run(`DROP TABLE IF EXISTS ${name}`);
    }
  }
}

/**
 * The change rows of the merge with `_change_type`: for each incoming key, the best-ranked old row
 * and the new one as update pre/post images when they differ, further old rows of the key (the
 * table held duplicates, the merge leaves one) as deletes, and new keys as inserts.
 */
function changeRows(
  matched: string,
  effective: string,
  columns: readonly string[],
  byKey: string,
  on: (a: string, b: string) => string,
): string {
  const list = columns.join(', ');
  const iList = columns.map((c) => `i.${c}`).join(', ');
  return (
    `SELECT ${list}, 'update_preimage' AS _change_type FROM ${matched} WHERE __etld_rank = 1 AND NOT __etld_same ` +
    `UNION ALL SELECT ${iList}, 'update_postimage' FROM ${effective} i SEMI JOIN ` +
    `(SELECT ${byKey} FROM ${matched} WHERE __etld_rank = 1 AND NOT __etld_same) m ON ${on('i', 'm')} ` +
    `UNION ALL SELECT ${list}, 'delete' FROM ${matched} WHERE __etld_rank > 1 ` +
    `UNION ALL SELECT ${iList}, 'insert' FROM ${effective} i ANTI JOIN ${matched} m ON ${on('i', 'm')}`
  );
}

/**
 * The live files that may hold an incoming key. When the key includes every partition column, a
 * file of a partition no incoming row falls in cannot: only the others are read.
 */
async function candidateFiles(input: MergeInput, files: ExistingFiles, incoming: string): Promise<string[]> {
  const { partitionColumns, keys, connection } = input;
  const keyed = new Set(keys);
  if (partitionColumns.length === 0 || !partitionColumns.every((p) => keyed.has(p))) return files.paths();
  const match = partitionColumns.map((p, i) => `${files.partitionValue(i)} = i.${sqlIdent(p)}`).join(' AND ');
  const reader = await connection.runAndReadAll(
    `SELECT f.${FILE_COLUMN} FROM ${files.table} f SEMI JOIN ` +
      `(SELECT DISTINCT ${partitionColumns.map(sqlIdent).join(', ')} FROM ${incoming}) i ON ${match}`,
  );
  return (reader.getColumns()[0] ?? []).map(String);
}

async function count(connection: DuckDBConnection, sql: string): Promise<number> {
  const reader = await connection.runAndReadAll(sql);
  return Number(reader.getRows()[0]?.[0] ?? 0);
}
