/**
 * The DuckDB destination: a table in a DuckDB database file. The file is opened only while etld
 * reads its catalog or commits (attached to a throwaway in-memory instance), so analysts can open
 * it between runs. A load writes each part as a Parquet file in the run's work directory; the
 * commit is one DuckDB transaction that inserts them and writes the run's sequence into
 * `_etld_commits`, the record of what was committed:
 * - full: the new table is built as `<table>__etld_new` and renamed over the old one;
 * - incremental: INSERT;
 * - merge: the batch is de-duplicated by key (newest by cursor, else the last staged row), rows
 *   with those keys are deleted and the batch inserted. No primary key is declared: DuckDB's ART
 *   indexes reject a delete and re-insert of one key in a single transaction;
 * - append_missing (an append pipeline's backfill): INSERT of the batch rows the table does not
 *   hold yet, counted per content of the compared columns.
 * Schema changes (ALTER TABLE ADD COLUMN) are applied inside the same transaction, before any DML.
 */
import { existsSync, mkdirSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api';
import { cancelledError, EtlError } from '../../../shared/errors.js';
import type { DestinationConfig } from '../../../shared/config/pipeline-schema.js';
import type { ColumnSchema } from '../../../shared/types.js';
import { duckStep, queryStrings, quoteIdent, quoteLiteral, splitTableName } from '../../duckdb/duck-sql.js';
import { stagingDuckType } from '../../duckdb/staging-types.js';
import type {
  BatchPart,
  CommitResult,
  CommittedSequence,
  Destination,
  DestinationLoad,
  LoadRequest,
  DestinationContext,
  DestinationDialect,
  SchemaChange,
} from '../destination.js';
import { diffSchema, sameNativeTypeRules, type NativeColumn } from '../schema-diff.js';
import { COMMITS_TABLE, readCommittedSequence, readTableColumns } from './duckdb-catalog.js';
import { withFileLock } from './file-lock.js';
import type { AccessCheck, AccessCheckRequest } from '../access-check.js';
import { checkDuckDbAccess } from './duckdb-access.js';

type DuckDbConfig = Extract<DestinationConfig, { type: 'duckdb' }>;

const ALIAS = 'etld_dest';

/**
 * DuckDB's rules for the shared schema diff: identifiers are quoted, so names match
 * case-sensitively; an existing column accepts exactly the type a new one would be created with.
 */
const DUCKDB_SCHEMA_RULES = sameNativeTypeRules((column) => stagingDuckType(column.type), 'case-sensitive');

function cancelled(): EtlError {
  return cancelledError('the load into DuckDB', 'nothing was committed');
}

class DuckDbDestination implements Destination {
  readonly label: string;
  readonly appendsMissing = true;
  readonly #path: string;
  readonly #schema: string;
  readonly #table: string;

  constructor(config: DuckDbConfig, context: DestinationContext) {
    this.#path = isAbsolute(config.path) ? config.path : resolve(context.lakeDir, config.path);
    const { schema, table } = splitTableName(config.table);
    this.#schema = schema;
    this.#table = table;
    this.label = `duckdb ${this.#path} table ${config.table}`;
  }

  get #qualified(): string {
    return `${quoteIdent(ALIAS)}.${quoteIdent(this.#schema)}.${quoteIdent(this.#table)}`;
  }

  /** Runs `work` with the file attached read-only to a throwaway in-memory instance; never creates it. */
  async #readOnly<T>(whenMissing: T, work: (connection: DuckDBConnection) => Promise<T>): Promise<T> {
    return withFileLock(this.#path, async () => {
      if (!existsSync(this.#path)) return whenMissing;
      const instance = await DuckDBInstance.create(':memory:');
      const connection = await instance.connect();
      try {
        await duckStep('DESTINATION_WRITE', `cannot open DuckDB file ${this.#path}`, () =>
          connection.run(`ATTACH ${quoteLiteral(this.#path)} AS ${quoteIdent(ALIAS)} (READ_ONLY)`),
        );
        return await work(connection);
      } finally {
        connection.closeSync();
        instance.closeSync();
      }
    });
  }

  async planSchema(
    incoming: readonly ColumnSchema[],
    policy: 'add_columns' | 'strict',
  ): Promise<SchemaChange[]> {
    const existing = await this.#readOnly<NativeColumn[] | null>(null, (connection) =>
      readTableColumns(connection, ALIAS, this.#schema, this.#table),
    );
    return diffSchema({ target: this.label, existing, incoming, policy, rules: DUCKDB_SCHEMA_RULES });
  }

  async committedSequence(pipeline: string): Promise<CommittedSequence | null> {
    return this.#readOnly<CommittedSequence | null>(null, (connection) =>
      readCommittedSequence(connection, ALIAS, pipeline),
    );
  }

  beginLoad(request: LoadRequest): Promise<DestinationLoad> {
    return Promise.resolve(new DuckDbLoad(this, request));
  }

  /**
   * The commit of a load whose parts are Parquet files in the run's work directory: one DuckDB
   * transaction on a throwaway instance with the file attached, holding the data change and the
   * `_etld_commits` row.
   */
  async commitFiles(request: LoadRequest, files: readonly string[]): Promise<CommitResult> {
    if (request.signal.aborted) throw cancelled();
    return withFileLock(this.#path, async () => {
      mkdirSync(dirname(this.#path), { recursive: true });
      // Inside the run's budget: a full load of a large table spills to the work directory.
      const instance = await DuckDBInstance.create(':memory:', {
        temp_directory: join(request.workDir, 'duckdb-commit-tmp'),
        ...(request.duckdb === undefined
          ? {}
          : { memory_limit: request.duckdb.memoryLimit, threads: String(request.duckdb.threads) }),
      });
      const connection = await instance.connect();
      try {
        await connection.run(`SET TimeZone='UTC'`);
        await duckStep('DESTINATION_WRITE', `cannot open DuckDB file ${this.#path}`, () =>
          connection.run(`ATTACH ${quoteLiteral(this.#path)} AS ${quoteIdent(ALIAS)}`),
        );
        await connection.run('BEGIN TRANSACTION');
        try {
          const result = await this.#commitInTransaction(
            connection,
            request,
            batchRelation(request.columns, files),
          );
          if (result.alreadyCommitted) {
            await connection.run('ROLLBACK');
            return result;
          }
          if (request.signal.aborted) throw cancelled();
          await duckStep('DESTINATION_WRITE', `commit to ${this.label} failed`, () =>
            connection.run('COMMIT'),
          );
          return result;
        } catch (error) {
          await connection.run('ROLLBACK').catch(() => undefined);
          throw error;
        }
      } finally {
        connection.closeSync();
        instance.closeSync();
      }
    });
  }

  async #commitInTransaction(
    connection: DuckDBConnection,
    request: LoadRequest,
    relation: string,
  ): Promise<CommitResult> {
    const commits = `${quoteIdent(ALIAS)}.main.${quoteIdent(COMMITS_TABLE)}`;
    await connection.run(
      `CREATE TABLE IF NOT EXISTS ${commits} (pipeline VARCHAR NOT NULL, sequence BIGINT NOT NULL, run_id VARCHAR NOT NULL,
        mode VARCHAR NOT NULL, rows_loaded BIGINT NOT NULL, committed_at TIMESTAMPTZ NOT NULL)`,
    );
    const committed = await readCommittedSequence(connection, ALIAS, request.pipeline);
    if (committed !== null && committed.sequence >= request.sequence) {
      return {
        rowsLoaded: 0,
        alreadyCommitted: true,
        committedRunId: committed.runId,
        details: { committed_sequence: committed.sequence },
      };
    }
    const existing = await readTableColumns(connection, ALIAS, this.#schema, this.#table);
    const changes = diffSchema({
      target: this.label,
      existing,
      incoming: request.columns,
      policy: request.schemaEvolution,
      rules: DUCKDB_SCHEMA_RULES,
    });
    if (this.#schema !== 'main')
      await connection.run(`CREATE SCHEMA IF NOT EXISTS ${quoteIdent(ALIAS)}.${quoteIdent(this.#schema)}`);

    const columnList = request.columns.map((c) => quoteIdent(c.name)).join(', ');
    let rowsLoaded = 0;
    let rowsSkipped: number | undefined;
    const write = async (): Promise<void> => {
      switch (request.mode) {
        case 'full':
          rowsLoaded = await this.#replace(
            connection,
            request.columns,
            `SELECT ${columnList} FROM ${relation}`,
          );
          break;
        case 'incremental':
          await this.#prepareTable(connection, existing === null, changes, request.columns);
          rowsLoaded = (
            await connection.run(
              `INSERT INTO ${this.#qualified} (${columnList}) SELECT ${columnList} FROM ${relation}`,
            )
          ).rowsChanged;
          break;
        case 'merge':
          await this.#prepareTable(connection, existing === null, changes, request.columns);
          rowsLoaded = await this.#merge(connection, request, relation, columnList);
          break;
        case 'append_missing': {
          await this.#prepareTable(connection, existing === null, changes, request.columns);
          const batch = Number(
            (await queryStrings(connection, `SELECT count(*)::VARCHAR FROM ${relation}`))[0]?.[0] ?? 0,
          );
          rowsLoaded = await this.#appendMissing(connection, request, relation);
          rowsSkipped = batch - rowsLoaded;
          break;
        }
      }
    };
    await duckStep('DESTINATION_WRITE', `writing ${this.label}`, write);
    await connection.run(
      `INSERT INTO ${commits} VALUES (${quoteLiteral(request.pipeline)}, ${request.sequence}, ${quoteLiteral(request.runId)},
        ${quoteLiteral(request.mode)}, ${rowsLoaded}, now())`,
    );
    return {
      rowsLoaded,
      alreadyCommitted: false,
      ...(rowsSkipped === undefined ? {} : { rowsSkipped }),
      details: { file: this.#path, table: `${this.#schema}.${this.#table}`, schema_changes: changes.length },
    };
  }

  #columnDefinitions(columns: readonly ColumnSchema[]): string {
    return columns.map((c) => `${quoteIdent(c.name)} ${stagingDuckType(c.type)}`).join(', ');
  }

  async #prepareTable(
    connection: DuckDBConnection,
    create: boolean,
    changes: readonly SchemaChange[],
    columns: readonly ColumnSchema[],
  ): Promise<void> {
    if (create) {
      await connection.run(`CREATE TABLE ${this.#qualified} (${this.#columnDefinitions(columns)})`);
      return;
    }
    const byName = new Map(columns.map((c) => [c.name, c]));
    for (const change of changes) {
      const column = byName.get(change.column);
      if (change.change !== 'add' || column === undefined) continue;
      await connection.run(
        `ALTER TABLE ${this.#qualified} ADD COLUMN ${quoteIdent(column.name)} ${stagingDuckType(column.type)}`,
      );
    }
  }

  async #replace(
    connection: DuckDBConnection,
    columns: readonly ColumnSchema[],
    select: string,
  ): Promise<number> {
    const fresh = `${quoteIdent(ALIAS)}.${quoteIdent(this.#schema)}.${quoteIdent(`${this.#table}__etld_new`)}`;
    await connection.run(`DROP TABLE IF EXISTS ${fresh}`);
    await connection.run(`CREATE TABLE ${fresh} (${this.#columnDefinitions(columns)})`);
    const inserted = (await connection.run(`INSERT INTO ${fresh} ${select}`)).rowsChanged;
    await connection.run(`DROP TABLE IF EXISTS ${this.#qualified}`);
    await connection.run(`ALTER TABLE ${fresh} RENAME TO ${quoteIdent(this.#table)}`);
    return inserted;
  }

  async #merge(
    connection: DuckDBConnection,
    request: LoadRequest,
    relation: string,
    columnList: string,
  ): Promise<number> {
    const key = request.key;
    if (key === undefined || key.length === 0) {
      throw new EtlError('DESTINATION_WRITE', `${this.label}: merge needs a key`, { retryable: false });
    }
    const known = new Set(request.columns.map((c) => c.name));
    for (const k of [...key, ...(request.cursor === undefined ? [] : [request.cursor])]) {
      if (!known.has(k)) {
        throw new EtlError(
          'DESTINATION_WRITE',
          `${this.label}: merge column "${k}" is not among the loaded columns`,
          {
            retryable: false,
          },
        );
      }
    }
    const order = [
      ...(request.cursor === undefined ? [] : [`${quoteIdent(request.cursor)} DESC NULLS LAST`]),
      `${ORDER_COLUMN} DESC`,
    ].join(', ');
    const partition = key.map(quoteIdent).join(', ');
    const newest = `SELECT ${columnList} FROM ${relation} QUALIFY row_number() OVER (PARTITION BY ${partition} ORDER BY ${order}) = 1`;
    const match = key.map((k) => `t.${quoteIdent(k)} IS NOT DISTINCT FROM b.${quoteIdent(k)}`).join(' AND ');
    await connection.run(`DELETE FROM ${this.#qualified} AS t USING (${newest}) AS b WHERE ${match}`);
    return (await connection.run(`INSERT INTO ${this.#qualified} (${columnList}) ${newest}`)).rowsChanged;
  }

  /**
   * Inserts the batch rows the table does not hold: the n-th copy of a content (over
   * `request.compare`) is inserted when the table holds fewer than n rows with that content.
   */
  async #appendMissing(
    connection: DuckDBConnection,
    request: LoadRequest,
    relation: string,
  ): Promise<number> {
    const compare = request.compare ?? [];
    if (compare.length === 0)
      throw new EtlError('INTERNAL', `${this.label}: append_missing without the columns to compare`);
    const cmp = compare.map(quoteIdent);
    const match = cmp.map((c) => `b.${c} IS NOT DISTINCT FROM h.${c}`).join(' AND ');
    const columns = request.columns.map((c) => quoteIdent(c.name));
    const sql = `INSERT INTO ${this.#qualified} (${columns.join(', ')})
      SELECT ${columns.map((c) => `b.${c}`).join(', ')}
        FROM (SELECT *, row_number() OVER (PARTITION BY ${cmp.join(', ')}) AS __etld_n FROM ${relation}) AS b
        LEFT JOIN (SELECT ${cmp.join(', ')}, count(*) AS __etld_k FROM ${this.#qualified} GROUP BY ALL) AS h ON ${match}
       WHERE b.__etld_n > coalesce(h.__etld_k, 0)`;
    return (await connection.run(sql)).rowsChanged;
  }

  async close(): Promise<void> {
    // Nothing stays open between calls: the file is attached only inside planSchema/commit.
  }

  /** `etlctl test`: the file opened read-only, the table's presence, the directory's permissions. */
  checkAccess(request: AccessCheckRequest): Promise<AccessCheck[]> {
    return checkDuckDbAccess(
      {
        label: this.label,
        path: this.#path,
        table: `${this.#schema}.${this.#table}`,
        readColumns: () =>
          this.#readOnly<NativeColumn[] | null>(null, (connection) =>
            readTableColumns(connection, ALIAS, this.#schema, this.#table),
          ),
      },
      request,
    );
  }
}

/** The staging order of a part's rows, written beside them: the later row wins a cursor tie in merge. */
const ORDER_COLUMN = '__etld_ord';

/** The parts' Parquet files as one relation (an empty typed relation when no part had rows). */
function batchRelation(columns: readonly ColumnSchema[], files: readonly string[]): string {
  if (files.length === 0) {
    const empty = columns.map((c) => `CAST(NULL AS ${stagingDuckType(c.type)}) AS ${quoteIdent(c.name)}`);
    return `(SELECT ${empty.join(', ')}, 0 AS ${ORDER_COLUMN} WHERE false)`;
  }
  return `read_parquet([${files.map(quoteLiteral).join(', ')}])`;
}

/** A DuckDB load: each part becomes a Parquet file in the work directory; the commit inserts them. */
class DuckDbLoad implements DestinationLoad {
  readonly #destination: DuckDbDestination;
  readonly #request: LoadRequest;
  readonly #files: string[] = [];
  /** The file each part wrote (a part that wrote no row has none). */
  readonly #fileOfPart = new Map<string, string>();
  #parts = 0;

  constructor(destination: DuckDbDestination, request: LoadRequest) {
    this.#destination = destination;
    this.#request = request;
  }

  async writePart(part: BatchPart): Promise<number> {
    const file = join(this.#request.workDir, `duckdb-part-${++this.#parts}.parquet`);
    const columns = this.#request.columns.map((c) => quoteIdent(c.name)).join(', ');
    // Only a merge needs the staging order, and a merge part is always a staged table (its rowid).
    const order = part.table === undefined ? '0' : 'rowid';
    const from = part.table ?? `(${part.select})`;
    const written = await duckStep(
      'DESTINATION_WRITE',
      `writing part ${part.id} for ${this.#destination.label}`,
      () =>
        part.connection.run(
          `COPY (SELECT ${columns}, ${order} AS ${ORDER_COLUMN} FROM ${from}) TO ${quoteLiteral(file)} (FORMAT parquet)`,
        ),
    );
    if (written.rowsChanged > 0) {
      this.#files.push(file);
      this.#fileOfPart.set(part.id, file);
    } else await rm(file, { force: true });
    return written.rowsChanged;
  }

  readonly readBack = (id: string): string | null => {
    const file = this.#fileOfPart.get(id);
    if (file === undefined) return null;
    const columns = this.#request.columns.map((c) => quoteIdent(c.name)).join(', ');
    return `SELECT ${columns} FROM read_parquet(${quoteLiteral(file)})`;
  };

  commit(): Promise<CommitResult> {
    return this.#destination.commitFiles(this.#request, this.#files);
  }

  async abort(): Promise<void> {
    await Promise.all(this.#files.splice(0).map((f) => rm(f, { force: true })));
  }
}

export const duckdbDestination: DestinationDialect<'duckdb'> = {
  kind: 'duckdb',
  create: (config, context) => new DuckDbDestination(config, context),
};
