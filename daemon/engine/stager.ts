/**
 * The run's staging database: an in-memory DuckDB whose `temp_directory` is inside the run's temp
 * directory. Memory stays bounded by `memory_limit` whatever the batch size (DuckDB spills
 * buffers beyond it to `temp_directory`), and closing it costs nothing.
 *
 * Most rows never rest here: each part's staging CSV is read, typed, transformed and handed to the
 * destination by one streaming statement (`typedSelect`, `finalSelect`). What must be seen whole
 * is kept in tables: `raw` holds the rows around the watermarks (append mode: the rows a boundary
 * may drop, and the rows whose content hashes form the next boundary), `final` the transformed
 * batch of a merge. Every error names the part, row and column, never a value.
 */
import { join } from 'node:path';
import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api';
import { EtlError } from '../../shared/errors.js';
import type { ColumnSchema } from '../../shared/types.js';
import type { BoundaryIdentity } from '../state/store.js';
import { stagingCsvSelect } from './csv-staging.js';
import { duckStep, quoteIdent, quoteLiteral, queryStrings } from '../duckdb/duck-sql.js';
import { partFailure } from './part-failure.js';
import { stagingDuckType } from '../duckdb/staging-types.js';
import { RAW_SHARD_COLUMN, type CompiledTransforms, type RunMetadata } from './transforms.js';
import { FLAG_NEXT, FLAG_PRIOR } from './watermarks.js';

const RAW_TABLE = 'raw';
export const FINAL_TABLE = 'final';
/** A full refresh of a merge pipeline: `final`'s newest row per key (`newestPerKey`). */
const NEWEST_TABLE = 'final_newest';
/** The raw table's column naming the part a row came from (reconciliation per part). */
const RAW_PART_COLUMN = '__etld_part';

export interface StagerOptions {
  readonly memoryLimit: string;
  readonly threads: number;
  /** PostgreSQL infinite dates and timestamps: fail naming the column, or stage NULL. */
  readonly infiniteDates?: 'error' | 'null';
}

/**
 * The identity etld 0.1 recorded at a watermark (kept to read boundaries it wrote): the key as
 * text (composite: JSON array), else a hash of the whole row.
 */
export function legacyIdentityExpression(
  columns: readonly ColumnSchema[],
  key: readonly string[] | undefined,
): string {
  if (key !== undefined && key.length === 1 && key[0] !== undefined)
    return `CAST(${quoteIdent(key[0])} AS VARCHAR)`;
  if (key !== undefined && key.length > 1) {
    return `CAST(to_json([${key.map((k) => `CAST(${quoteIdent(k)} AS VARCHAR)`).join(', ')}]) AS VARCHAR)`;
  }
  return contentHashExpression(columns.map((c) => c.name));
}

/** A row's content hash over `columns` (their typed staging values), as 32 hex digits. */
export function contentHashExpression(columns: readonly string[]): string {
  const fields = columns.map((name) => `${quoteIdent(name)} := ${quoteIdent(name)}`).join(', ');
  return `md5(CAST(to_json(struct_pack(${fields})) AS VARCHAR))`;
}

/** The load's rows from `from` (a relation with raw's columns): transforms and metadata applied, typed. */
export function finalSelect(transforms: CompiledTransforms, meta: RunMetadata, from: string): string {
  const typed = transforms.columns.map(
    (c) => `CAST(q.${quoteIdent(c.name)} AS ${stagingDuckType(c.type)}) AS ${quoteIdent(c.name)}`,
  );
  return `SELECT ${typed.join(', ')} FROM (SELECT ${transforms.selectList(meta).join(', ')} FROM ${from}) AS q`;
}

export class Stager {
  readonly #instance: DuckDBInstance;
  readonly connection: DuckDBConnection;
  readonly #columns: readonly ColumnSchema[];
  readonly #infiniteDates: 'error' | 'null';
  readonly #memoryLimit: string;

  private constructor(
    instance: DuckDBInstance,
    connection: DuckDBConnection,
    columns: readonly ColumnSchema[],
    options: StagerOptions,
  ) {
    this.#instance = instance;
    this.connection = connection;
    this.#columns = columns;
    this.#infiniteDates = options.infiniteDates ?? 'error';
    this.#memoryLimit = options.memoryLimit;
  }

  /** The budget the run's DuckDB was given, for messages. */
  get memoryLimit(): string {
    return this.#memoryLimit;
  }

  /**
   * Creates the staging database in `dir` with an empty `raw` table of `columns`: the source
   * columns, then the extraction's flag columns when the mode keeps a boundary.
   */
  static async open(dir: string, columns: readonly ColumnSchema[], options: StagerOptions): Promise<Stager> {
    const instance = await DuckDBInstance.create(':memory:', {
      memory_limit: options.memoryLimit,
      temp_directory: join(dir, 'duckdb-tmp'),
      threads: String(options.threads),
    });
    const connection = await instance.connect();
    const stager = new Stager(instance, connection, columns, options);
    try {
      await connection.run(`SET TimeZone='UTC'`);
      await connection.run(`SET preserve_insertion_order = true`);
      const definitions = columns.map((c) => `${quoteIdent(c.name)} ${stagingDuckType(c.type)}`);
      definitions.push(`${quoteIdent(RAW_SHARD_COLUMN)} VARCHAR`, `${quoteIdent(RAW_PART_COLUMN)} VARCHAR`);
      await connection.run(`CREATE TABLE ${RAW_TABLE} (${definitions.join(', ')})`);
    } catch (error) {
      stager.close();
      throw error;
    }
    return stager;
  }

  /** Loads one shard's spool files into `raw`; returns the rows loaded (preview). */
  async loadShard(shard: string, files: readonly string[]): Promise<number> {
    if (files.length === 0) return 0;
    const select = await this.typedSelect(this.connection, shard, shard, files);
    return this.insertRaw(this.connection, shard, select);
  }

  /** A connection of its own (parts stream concurrently), `TimeZone` UTC; the caller closes it. */
  async connect(): Promise<DuckDBConnection> {
    const connection = await this.#instance.connect();
    try {
      await connection.run(`SET TimeZone='UTC'`);
    } catch (error) {
      connection.closeSync();
      throw error;
    }
    return connection;
  }

  /**
   * The typed rows of one part's staging CSV at `files` (a FIFO being written while the statement
   * runs, or spooled files), with the shard and part labels: the columns of `raw`, in order. Rows
   * are numbered for messages by a sequence created on `connection`, the one that must run it;
   * `numbered: false` leaves them unnumbered for a statement that reads a part beside the one
   * that reports its errors (numbering forces every column to be converted).
   */
  async typedSelect(
    connection: DuckDBConnection,
    shard: string,
    part: string,
    files: readonly string[],
    numbered = true,
  ): Promise<string> {
    const rowSequence = `etld_rows_${part.replace(/[^A-Za-z0-9_]/g, '_')}`;
    if (numbered) await connection.run(`CREATE OR REPLACE TEMP SEQUENCE ${quoteIdent(rowSequence)} START 1`);
    const select = stagingCsvSelect(files, this.#columns, {
      part,
      ...(numbered ? { rowSequence } : {}),
      infiniteDates: this.#infiniteDates,
    });
    return `SELECT q.*, ${quoteLiteral(shard)} AS ${quoteIdent(RAW_SHARD_COLUMN)}, ${quoteLiteral(part)} AS ${quoteIdent(RAW_PART_COLUMN)} FROM (${select}) AS q`;
  }

  /** Inserts the rows of `select` (a `typedSelect`, optionally filtered) into `raw`; returns the count. */
  async insertRaw(connection: DuckDBConnection, part: string, select: string): Promise<number> {
    try {
      return (await connection.run(`INSERT INTO ${RAW_TABLE} ${select}`)).rowsChanged;
    } catch (error) {
      throw partFailure(part, error, this.#memoryLimit);
    }
  }

  /** Rows of `part` in `raw` flagged at or below the stored watermark. */
  async priorRows(part: string): Promise<number> {
    const rows = await queryStrings(
      this.connection,
      `SELECT count(*) FROM ${RAW_TABLE} WHERE ${quoteIdent(RAW_PART_COLUMN)} = ${quoteLiteral(part)} AND ${quoteIdent(FLAG_PRIOR)} = 't'`,
    );
    return Number(rows[0]?.[0] ?? 0);
  }

  /**
   * The next boundary of `shard`: the content hashes (a multiset, sorted) of its staged rows the
   * source flagged as inside the next run's re-read window. Read before `dropLoaded`: a row that
   * is dropped now was loaded before and is read again next time all the same.
   */
  async boundaryIdentities(shard: string, identity: BoundaryIdentity): Promise<string[]> {
    const rows = await queryStrings(
      this.connection,
      `SELECT ${contentHashExpression(identity.columns)} AS h FROM ${RAW_TABLE}
        WHERE ${quoteIdent(RAW_SHARD_COLUMN)} = ${quoteLiteral(shard)} AND ${quoteIdent(FLAG_NEXT)} = 't' ORDER BY h`,
    );
    return rows.map((r) => r[0] ?? '');
  }

  /**
   * Removes the staged rows of `shard` that were loaded already: flagged as at or below the
   * stored watermark, with a content hash in `boundary` (each entry matches one row: a multiset),
   * and NULL in every column added since the boundary was recorded (the loaded rows hold NULL
   * there). Returns the rows removed.
   */
  async dropLoaded(shard: string, boundary: readonly string[], identity: BoundaryIdentity): Promise<number> {
    if (boundary.length === 0) return 0;
    const known = new Set(this.#columns.map((c) => c.name));
    const missing = identity.columns.filter((c) => !known.has(c));
    if (missing.length > 0) {
      throw new EtlError(
        'SCHEMA_MISMATCH',
        `the watermark of shard ${shard} was recorded over column(s) ${missing.join(', ')}, which are no longer extracted; ` +
          'loaded rows cannot be recognised (restore the columns, or reset the watermark)',
      );
    }
    const recorded = new Set(identity.columns);
    const added = this.#columns
      .filter((c) => !recorded.has(c.name) && !c.name.startsWith('__etld_'))
      .map((c) => `${quoteIdent(c.name)} IS NULL`);
    await this.#loadBoundary(boundary);
    const candidates = [
      `${quoteIdent(RAW_SHARD_COLUMN)} = ${quoteLiteral(shard)}`,
      `${quoteIdent(FLAG_PRIOR)} = 't'`,
      ...added,
    ].join(' AND ');
    const result = await this.connection.run(
      `DELETE FROM ${RAW_TABLE} WHERE rowid IN (
         SELECT r.id FROM (
           SELECT id, h, row_number() OVER (PARTITION BY h ORDER BY id) AS n
             FROM (SELECT rowid AS id, ${contentHashExpression(identity.columns)} AS h FROM ${RAW_TABLE} WHERE ${candidates})
         ) r JOIN (SELECT k, count(*) AS times FROM etld_boundary GROUP BY k) b ON r.h = b.k
         WHERE r.n <= b.times)`,
    );
    await this.connection.run('DROP TABLE etld_boundary');
    return result.rowsChanged;
  }

  /** `dropLoaded` for a boundary etld 0.1 recorded: keys (or row hashes) of the rows at the watermark. */
  async dropLoadedLegacy(
    shard: string,
    boundary: readonly string[],
    legacyIdentity: string,
  ): Promise<number> {
    if (boundary.length === 0) return 0;
    await this.#loadBoundary(boundary);
    const result = await this.connection.run(
      `DELETE FROM ${RAW_TABLE} WHERE ${quoteIdent(RAW_SHARD_COLUMN)} = ${quoteLiteral(shard)}
         AND ${quoteIdent(FLAG_PRIOR)} = 't' AND ${legacyIdentity} IN (SELECT k FROM etld_boundary)`,
    );
    await this.connection.run('DROP TABLE etld_boundary');
    return result.rowsChanged;
  }

  /** Removes every staged row of `shard` at or below the stored watermark (an operator's `watermark set`). */
  async dropAllPrior(shard: string): Promise<number> {
    const result = await this.connection.run(
      `DELETE FROM ${RAW_TABLE} WHERE ${quoteIdent(RAW_SHARD_COLUMN)} = ${quoteLiteral(shard)} AND ${quoteIdent(FLAG_PRIOR)} = 't'`,
    );
    return result.rowsChanged;
  }

  async #loadBoundary(boundary: readonly string[]): Promise<void> {
    await this.connection.run(`CREATE OR REPLACE TEMP TABLE etld_boundary (k VARCHAR)`);
    const appender = await this.connection.createAppender('etld_boundary', 'main', 'temp');
    for (const k of boundary) {
      appender.appendVarchar(k);
      appender.endRow();
    }
    appender.closeSync();
  }

  /** Per key column, how many rows of `final` hold NULL there (merge cannot place them). */
  async nullKeys(key: readonly string[]): Promise<{ column: string; rows: number }[]> {
    if (key.length === 0) return [];
    const counts = key.map((k) => `count(*) FILTER (WHERE ${quoteIdent(k)} IS NULL)`).join(', ');
    const rows = await queryStrings(this.connection, `SELECT ${counts} FROM ${FINAL_TABLE}`);
    return key.map((column, i) => ({ column, rows: Number(rows[0]?.[i] ?? 0) })).filter((c) => c.rows > 0);
  }

  /** Creates the empty `final` table of a merge, which parts fill as they stream. */
  async createFinal(columns: readonly ColumnSchema[]): Promise<void> {
    const definitions = columns.map((c) => `${quoteIdent(c.name)} ${stagingDuckType(c.type)}`);
    await this.connection.run(`CREATE TABLE ${FINAL_TABLE} (${definitions.join(', ')})`);
  }

  /** Inserts `select` (a `finalSelect`) into `final`; returns the count. */
  async insertFinal(connection: DuckDBConnection, part: string, select: string): Promise<number> {
    try {
      return (await connection.run(`INSERT INTO ${FINAL_TABLE} ${select}`)).rowsChanged;
    } catch (error) {
      throw partFailure(part, error, this.#memoryLimit);
    }
  }

  /** `final` built from `raw` in one statement (preview). */
  async buildFinal(transforms: CompiledTransforms, meta: RunMetadata, limit?: number): Promise<number> {
    await this.createFinal(transforms.columns);
    const select = finalSelect(
      transforms,
      meta,
      `${RAW_TABLE}${limit === undefined ? '' : ` LIMIT ${limit}`}`,
    );
    const result = await duckStep('TRANSFORM_INVALID', 'applying transforms', () =>
      this.insertFinal(this.connection, 'preview', select),
    );
    return result;
  }

  /** The rows of `raw` still to load after the boundary: flagged at or below the stored watermark. */
  priorRelation(): string {
    return `(SELECT * FROM ${RAW_TABLE} WHERE ${quoteIdent(FLAG_PRIOR)} = 't') AS prior_rows`;
  }

  /** Rows of `final` as text (preview). */
  async finalRowsAsText(columns: readonly ColumnSchema[], limit: number): Promise<(string | null)[][]> {
    const list = columns.map((c) => `CAST(${quoteIdent(c.name)} AS VARCHAR)`).join(', ');
    return queryStrings(this.connection, `SELECT ${list} FROM ${FINAL_TABLE} LIMIT ${limit}`);
  }

  /**
   * A table of `final`'s newest row per key (by `cursor`, NULLs oldest, then the later staged row),
   * the rule every destination's merge applies; returns its name. A full refresh of a merge
   * pipeline replaces the table with it.
   */
  async newestPerKey(key: readonly string[], cursor: string | undefined): Promise<string> {
    const order = [
      ...(cursor === undefined ? [] : [`${quoteIdent(cursor)} DESC NULLS LAST`]),
      'rowid DESC',
    ].join(', ');
    await this.connection.run(
      `CREATE TABLE ${NEWEST_TABLE} AS SELECT * FROM ${FINAL_TABLE}
        QUALIFY row_number() OVER (PARTITION BY ${key.map(quoteIdent).join(', ')} ORDER BY ${order}) = 1
        ORDER BY rowid`,
    );
    return NEWEST_TABLE;
  }

  async distinctKeys(key: readonly string[]): Promise<number> {
    const rows = await queryStrings(
      this.connection,
      `SELECT count(*) FROM (SELECT DISTINCT ${key.map(quoteIdent).join(', ')} FROM ${FINAL_TABLE})`,
    );
    return Number(rows[0]?.[0] ?? 0);
  }

  close(): void {
    try {
      this.connection.closeSync();
    } finally {
      this.#instance.closeSync();
    }
  }
}
