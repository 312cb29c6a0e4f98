/**
 * The DuckDB destination (SPEC §6): a table in a DuckDB database file. The file is opened only
 * while etld reads its catalog or commits (attached to the run's staging connection), so analysts
 * can open it between runs. Every commit is one DuckDB transaction that also writes the run's
 * sequence into `_etld_commits`, the record of what was committed (SPEC §5):
 * - full: the new table is built as `<table>__etld_new` and renamed over the old one;
 * - incremental: INSERT;
 * - merge: the batch is de-duplicated by key (newest by cursor, else the last staged row), rows
 *   with those keys are deleted and the batch inserted. No primary key is declared: DuckDB's ART
 *   indexes reject a delete and re-insert of one key in a single transaction.
 * Schema changes (ALTER TABLE ADD COLUMN) are applied inside the same transaction, before any DML.
 */
import { existsSync, mkdirSync } from 'node:fs';
import { dirname, isAbsolute, resolve } from 'node:path';
import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api';
import { EtlError } from '../../../shared/errors.js';
import type { DestinationConfig } from '../../../shared/config/pipeline-schema.js';
import { typeToString, type ColumnSchema } from '../../../shared/types.js';
import { duckStep, quoteIdent, quoteLiteral, splitTableName } from '../../engine/duck-sql.js';
import { stagingDuckType } from '../../engine/staging-types.js';
import type {
  CommitRequest,
  CommitResult,
  CommittedSequence,
  Destination,
  DestinationContext,
  DestinationDialect,
  SchemaChange,
} from '../destination.js';
import { diffSchema, type NativeColumn } from '../schema-diff.js';
import { COMMITS_TABLE, readCommittedSequence, readTableColumns } from './duckdb-catalog.js';
import { withFileLock } from './file-lock.js';

type DuckDbConfig = Extract<DestinationConfig, { type: 'duckdb' }>;

const ALIAS = 'etld_dest';

function incomingNative(columns: readonly ColumnSchema[]): NativeColumn[] {
  return columns.map((c) => ({
    name: c.name,
    nativeType: stagingDuckType(c.type),
    canonical: typeToString(c.type),
  }));
}

function cancelled(): EtlError {
  return new EtlError('CANCELLED', 'run cancelled before the DuckDB commit; nothing was written', {
    retryable: false,
  });
}

class DuckDbDestination implements Destination {
  readonly label: string;
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
    return diffSchema({ target: this.label, existing, incoming: incomingNative(incoming), policy });
  }

  async committedSequence(pipeline: string): Promise<CommittedSequence | null> {
    return this.#readOnly<CommittedSequence | null>(null, (connection) =>
      readCommittedSequence(connection, ALIAS, pipeline),
    );
  }

  async commit(request: CommitRequest): Promise<CommitResult> {
    if (request.signal.aborted) throw cancelled();
    const connection = request.batch.connection;
    return withFileLock(this.#path, async () => {
      mkdirSync(dirname(this.#path), { recursive: true });
      await duckStep('DESTINATION_WRITE', `cannot open DuckDB file ${this.#path}`, () =>
        connection.run(`ATTACH ${quoteLiteral(this.#path)} AS ${quoteIdent(ALIAS)}`),
      );
      try {
        await connection.run('BEGIN TRANSACTION');
        try {
          const result = await this.#commitInTransaction(connection, request);
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
        await connection.run(`DETACH ${quoteIdent(ALIAS)}`).catch(() => undefined);
      }
    });
  }

  async #commitInTransaction(connection: DuckDBConnection, request: CommitRequest): Promise<CommitResult> {
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
    const { batch } = request;
    const existing = await readTableColumns(connection, ALIAS, this.#schema, this.#table);
    const changes = diffSchema({
      target: this.label,
      existing,
      incoming: incomingNative(batch.columns),
      policy: request.schemaEvolution,
    });
    if (this.#schema !== 'main')
      await connection.run(`CREATE SCHEMA IF NOT EXISTS ${quoteIdent(ALIAS)}.${quoteIdent(this.#schema)}`);

    const columnList = batch.columns.map((c) => quoteIdent(c.name)).join(', ');
    let rowsLoaded: number;
    const write = async (): Promise<void> => {
      switch (request.mode) {
        case 'full':
          rowsLoaded = await this.#replace(
            connection,
            batch.columns,
            `SELECT ${columnList} FROM ${batch.relation}`,
          );
          break;
        case 'incremental':
          await this.#prepareTable(connection, existing === null, changes, batch.columns);
          rowsLoaded = (
            await connection.run(
              `INSERT INTO ${this.#qualified} (${columnList}) SELECT ${columnList} FROM ${batch.relation}`,
            )
          ).rowsChanged;
          break;
        case 'merge':
          await this.#prepareTable(connection, existing === null, changes, batch.columns);
          rowsLoaded = await this.#merge(connection, request, columnList);
          break;
      }
    };
    rowsLoaded = 0;
    await duckStep('DESTINATION_WRITE', `writing ${this.label}`, write);
    await connection.run(
      `INSERT INTO ${commits} VALUES (${quoteLiteral(request.pipeline)}, ${request.sequence}, ${quoteLiteral(request.runId)},
        ${quoteLiteral(request.mode)}, ${rowsLoaded}, now())`,
    );
    return {
      rowsLoaded,
      alreadyCommitted: false,
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

  async #merge(connection: DuckDBConnection, request: CommitRequest, columnList: string): Promise<number> {
    const key = request.key;
    if (key === undefined || key.length === 0) {
      throw new EtlError('DESTINATION_WRITE', `${this.label}: merge needs a key`, { retryable: false });
    }
    const known = new Set(request.batch.columns.map((c) => c.name));
    for (const k of [...key, ...(request.cursor === undefined ? [] : [request.cursor])]) {
      if (!known.has(k)) {
        throw new EtlError(
          'DESTINATION_WRITE',
          `${this.label}: merge column "${k}" is not among the loaded columns`,
          { retryable: false },
        );
      }
    }
    const order = [
      ...(request.cursor === undefined ? [] : [`${quoteIdent(request.cursor)} DESC NULLS LAST`]),
      'rowid DESC',
    ].join(', ');
    const partition = key.map(quoteIdent).join(', ');
    const newest = `SELECT ${columnList} FROM ${request.batch.relation} QUALIFY row_number() OVER (PARTITION BY ${partition} ORDER BY ${order}) = 1`;
    const match = key.map((k) => `t.${quoteIdent(k)} IS NOT DISTINCT FROM b.${quoteIdent(k)}`).join(' AND ');
    await connection.run(`DELETE FROM ${this.#qualified} AS t USING (${newest}) AS b WHERE ${match}`);
    return (await connection.run(`INSERT INTO ${this.#qualified} (${columnList}) ${newest}`)).rowsChanged;
  }

  async close(): Promise<void> {
    // Nothing stays open between calls: the file is attached only inside planSchema/commit.
  }
}

export const duckdbDestination: DestinationDialect<'duckdb'> = {
  kind: 'duckdb',
  create: (config, context) => new DuckDbDestination(config, context),
};
