/**
 * The PostgreSQL destination: COPY for bulk loads, one transaction per commit holding the
 * data change and its `_etld_commits` row, so the table and the record of what was committed never
 * disagree. full = empty the table and COPY in the same transaction (the table, its grants and
 * dependants stay); incremental = append; merge = stage in a temp table and `INSERT … ON CONFLICT`
 * by key; append_missing = stage in a temp table of the table's own column types and insert the
 * rows the table does not hold yet.
 */
import type { ResolvedConnection } from '../../config/resolved-connection.js';
import pg from 'pg';
import type { PoolClient } from 'pg';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { DestinationConfig } from '../../../shared/config/pipeline-schema.js';
import { cancelledError, EtlError } from '../../../shared/errors.js';
import type { ColumnSchema } from '../../../shared/types.js';
import type {
  CommitResult,
  CommittedSequence,
  Destination,
  DestinationContext,
  DestinationDialect,
  DestinationLoad,
  LoadRequest,
  SchemaChange,
} from '../destination.js';
import { copyFilesInto, writeCsv } from './postgres-copy.js';
import { toDestinationError } from './postgres-errors.js';
import { diffSchema } from '../schema-diff.js';
import { describeTable, POSTGRES_SCHEMA_RULES, type ExistingColumn } from './postgres-schema.js';
import {
  columnDefinitions,
  commitsTableDdl,
  parseTableName,
  qualified,
  quoteIdent,
  upsertSql,
  type TableName,
} from './postgres-sql.js';
import { postgresType } from './postgres-types.js';
import type { AccessCheck, AccessCheckRequest } from '../access-check.js';
import { checkPostgresAccess } from './postgres-access.js';
import { withoutRowData } from '../../logging/row-data.js';

type PostgresDestinationConfig = Extract<DestinationConfig, { type: 'postgres' }>;

function cancelled(label: string): EtlError {
  return cancelledError(`the load into ${label}`, 'nothing was committed');
}

export class PostgresDestination implements Destination {
  readonly label: string;
  readonly appendsMissing = true;
  readonly #connection: ResolvedConnection;
  readonly #name: TableName;
  #pool: pg.Pool | undefined;
  #schema: string | undefined;

  constructor(config: PostgresDestinationConfig, context: DestinationContext) {
    this.#connection = context.resolveConnection(config.connection);
    this.#name = parseTableName(config.table);
    const where =
      this.#connection.socket ?? `${this.#connection.host ?? 'localhost'}:${this.#connection.port ?? 5432}`;
    this.label = `postgres ${where}/${this.#connection.database ?? ''} ${config.table}`;
  }

  #getPool(): pg.Pool {
    if (this.#pool === undefined) {
      const c = this.#connection;
      const pool = new pg.Pool({
        host: c.socket ?? c.host,
        port: c.port,
        user: c.user,
        password: c.password,
        database: c.database,
        ssl: c.ssl === true ? { rejectUnauthorized: true } : undefined,
        connectionTimeoutMillis: c.connectTimeoutMs ?? 30_000,
        max: 2,
        application_name: 'etld',
      });
      // An idle client losing its server must not crash the daemon; the next checkout reconnects.
      pool.on('error', () => undefined);
      this.#pool = pool;
    }
    return this.#pool;
  }

  async #withClient<T>(where: string, work: (client: PoolClient) => Promise<T>): Promise<T> {
    let client: PoolClient;
    try {
      client = await this.#getPool().connect();
    } catch (error) {
      throw toDestinationError(error, `${this.label}: connecting`);
    }
    let broken: Error | undefined;
    try {
      return await work(client);
    } catch (error) {
      if (!(error instanceof EtlError)) broken = error instanceof Error ? error : new Error(String(error));
      throw toDestinationError(error, `${this.label}: ${where}`);
    } finally {
      client.release(broken);
    }
  }

  async #schemaOf(client: PoolClient): Promise<string> {
    if (this.#name.schema !== undefined) return this.#name.schema;
    if (this.#schema === undefined) {
      const result = await client.query<{ schema: string | null }>('SELECT current_schema() AS schema');
      const schema = result.rows[0]?.schema ?? null;
      if (schema === null) {
        throw new EtlError(
          'DESTINATION_WRITE',
          `${this.label}: the search_path names no existing schema; write the table as schema.table`,
          {
            retryable: false,
          },
        );
      }
      this.#schema = schema;
    }
    return this.#schema;
  }

  #tableLabel(schema: string): string {
    return `${schema}.${this.#name.table}`;
  }

  async planSchema(
    incoming: readonly ColumnSchema[],
    policy: 'add_columns' | 'strict',
    signal?: AbortSignal,
  ): Promise<SchemaChange[]> {
    if (signal?.aborted) throw cancelled(this.label);
    return this.#withClient('reading the table schema', async (client) => {
      const schema = await this.#schemaOf(client);
      return diffSchema({
        target: this.#tableLabel(schema),
        existing: await describeTable(client, schema, this.#name.table),
        incoming,
        policy,
        rules: POSTGRES_SCHEMA_RULES,
      });
    });
  }

  async committedSequence(pipelineName: string, signal?: AbortSignal): Promise<CommittedSequence | null> {
    if (signal?.aborted) throw cancelled(this.label);
    return this.#withClient('reading _etld_commits', async (client) => {
      const schema = await this.#schemaOf(client);
      const table = await describeTable(client, schema, '_etld_commits');
      if (table === undefined) return null;
      const result = await client.query<{ sequence_text: string; run_id: string }>(
        // ORDER BY names the table's bigint column: an output alias of the same name would win and
        // sort the text ('9' after '10').
        `SELECT c.sequence::text AS sequence_text, c.run_id FROM ${qualified(schema, '_etld_commits')} AS c WHERE c.pipeline = $1 ORDER BY c.sequence DESC LIMIT 1`,
        [pipelineName],
      );
      const row = result.rows[0];
      return row === undefined ? null : { sequence: Number(row.sequence_text), runId: row.run_id };
    });
  }

  beginLoad(request: LoadRequest): Promise<DestinationLoad> {
    if (request.signal.aborted) return Promise.reject(cancelled(this.label));
    if (request.mode === 'merge' && (request.key === undefined || request.key.length === 0)) {
      return Promise.reject(new EtlError('CONFIG_INVALID', `${this.label}: merge needs a key`));
    }
    const files: string[] = [];
    const removeFiles = async (): Promise<void> => {
      await Promise.all(files.splice(0).map((path) => rm(path, { force: true })));
    };
    return Promise.resolve({
      writePart: async (part) => {
        const path = join(request.workDir, `postgres-${files.length + 1}.csv`);
        files.push(path);
        try {
          return await writeCsv(part, request.columns, path);
        } catch (error) {
          throw new EtlError(
            'DESTINATION_WRITE',
            `${this.label}: writing the CSV load file of part ${part.id} in ${request.workDir}: ${withoutRowData(error instanceof Error ? error.message : String(error))}`,
            { cause: error, retryable: false },
          );
        }
      },
      commit: async () => {
        try {
          return await this.#commit(request, files);
        } finally {
          await removeFiles();
        }
      },
      abort: removeFiles,
    });
  }

  /** One transaction: the rows of every part file and the `_etld_commits` row. */
  async #commit(request: LoadRequest, files: readonly string[]): Promise<CommitResult> {
    const { signal } = request;
    if (signal.aborted) throw cancelled(this.label);
    return this.#withClient(
      `committing run ${request.runId} (sequence ${request.sequence})`,
      async (client) => {
        const schema = await this.#schemaOf(client);
        await client.query('BEGIN');
        try {
          const result = await this.#commitInTransaction(client, schema, request, files);
          if (signal.aborted) throw cancelled(this.label);
          if (result.alreadyCommitted) {
            await client.query('ROLLBACK');
          } else {
            await client.query('COMMIT');
          }
          return result;
        } catch (error) {
          await client.query('ROLLBACK').catch(() => undefined);
          if (signal.aborted) throw cancelled(this.label);
          throw error;
        }
      },
    );
  }

  async #commitInTransaction(
    client: PoolClient,
    schema: string,
    request: LoadRequest,
    files: readonly string[],
  ): Promise<CommitResult> {
    const label = this.#tableLabel(schema);
    const target = qualified(schema, this.#name.table);
    // Serializes commits into one table across daemons.
    await client.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`etld:${label}`]);
    const commits = qualified(schema, '_etld_commits');
    // Commits into two tables of one schema (a multi-table pipeline's tables) can both be the
    // first: two CREATE TABLE IF NOT EXISTS at once make one fail on pg_type's unique index. While
    // the table is missing its creation is serialized per schema (the lock is held to COMMIT).
    const present = await client.query<{ present: boolean }>(
      'SELECT to_regclass($1) IS NOT NULL AS present',
      [commits],
    );
    if (present.rows[0]?.present !== true)
      await client.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`etld:${schema}._etld_commits`]);
    await client.query(commitsTableDdl(schema));
    const done = await client.query<{ run_id: string }>(
      `SELECT run_id FROM ${commits} WHERE pipeline = $1 AND sequence >= $2 ORDER BY sequence DESC LIMIT 1`,
      [request.pipeline, request.sequence],
    );
    const committer = done.rows[0];
    if (committer !== undefined) {
      return {
        rowsLoaded: 0,
        alreadyCommitted: true,
        committedRunId: committer.run_id,
        details: { table: label },
      };
    }
    const existing = await describeTable(client, schema, this.#name.table);
    const changes = diffSchema({
      target: label,
      existing,
      incoming: request.columns,
      policy: request.schemaEvolution,
      rules: POSTGRES_SCHEMA_RULES,
    });
    const columns = request.columns;
    let rows: number;
    let rowsSkipped: number | undefined;
    switch (request.mode) {
      case 'full':
        rows = await this.#swapIn(client, schema, existing, changes, columns, files, request.signal);
        break;
      case 'incremental':
        await this.#prepareTarget(client, target, existing, changes, columns, undefined);
        rows = await copyFilesInto(client, target, columns, files, request.signal);
        break;
      case 'merge':
        rows = await this.#merge(client, schema, existing, changes, request, files);
        break;
      case 'append_missing': {
        await this.#prepareTarget(client, target, existing, changes, columns, undefined);
        const appended = await this.#appendMissing(client, target, request, files);
        rows = appended.inserted;
        rowsSkipped = appended.staged - appended.inserted;
        break;
      }
    }
    await client.query(`INSERT INTO ${commits} (pipeline, sequence, run_id, rows) VALUES ($1, $2, $3, $4)`, [
      request.pipeline,
      request.sequence,
      request.runId,
      rows,
    ]);
    return {
      rowsLoaded: rows,
      alreadyCommitted: false,
      ...(rowsSkipped === undefined ? {} : { rowsSkipped }),
      details: {
        table: label,
        mode: request.mode,
        columnsAdded: changes.filter((c) => c.change === 'add').length,
      },
    };
  }

  async #prepareTarget(
    client: PoolClient,
    target: string,
    existing: readonly ExistingColumn[] | undefined,
    changes: readonly SchemaChange[],
    columns: readonly ColumnSchema[],
    primaryKey: readonly string[] | undefined,
  ): Promise<void> {
    if (existing === undefined) {
      const pk = primaryKey === undefined ? '' : `, PRIMARY KEY (${primaryKey.map(quoteIdent).join(', ')})`;
      await client.query(`CREATE TABLE ${target} (${columnDefinitions(columns)}${pk})`);
      return;
    }
    const byName = new Map(columns.map((c) => [c.name, c]));
    for (const change of changes) {
      const column = byName.get(change.column);
      if (change.change !== 'add' || column === undefined) continue;
      await client.query(
        `ALTER TABLE ${target} ADD COLUMN ${quoteIdent(column.name)} ${postgresType(column.type)}`,
      );
    }
  }

  /**
   * Replaces the rows in place within the commit's transaction: TRUNCATE (or DELETE when other
   * tables reference it), then COPY. The table itself stays, so its grants, comments, row-level
   * security policies, triggers, indexes, dependent views and foreign keys all stay too. TRUNCATE
   * holds an ACCESS EXCLUSIVE lock until COMMIT: readers wait and then see the new rows, never an
   * empty table (a REPEATABLE READ transaction that began before the load and first reads the
   * table after it sees it empty: PostgreSQL's TRUNCATE is not MVCC-safe).
   */
  async #swapIn(
    client: PoolClient,
    schema: string,
    existing: readonly ExistingColumn[] | undefined,
    changes: readonly SchemaChange[],
    columns: readonly ColumnSchema[],
    files: readonly string[],
    signal: AbortSignal,
  ): Promise<number> {
    const target = qualified(schema, this.#name.table);
    if (existing === undefined) {
      await client.query(`CREATE TABLE ${target} (${columnDefinitions(columns)})`);
    } else {
      await this.#prepareTarget(client, target, existing, changes, columns, undefined);
      await this.#empty(client, schema, target);
    }
    return copyFilesInto(client, target, columns, files, signal);
  }

  /**
   * TRUNCATE refuses a table that foreign keys reference; DELETE works when those constraints are
   * deferrable (checked at COMMIT, against the new rows). A non-deferrable one is named.
   */
  async #empty(client: PoolClient, schema: string, target: string): Promise<void> {
    const references = await client.query<{ name: string; referencing: string; deferrable: boolean }>(
      `SELECT c.conname AS name, c.conrelid::regclass::text AS referencing, c.condeferrable AS deferrable
         FROM pg_constraint c
        WHERE c.contype = 'f' AND c.confrelid = to_regclass(format('%I.%I', $1::text, $2::text)) AND c.conrelid <> c.confrelid`,
      [schema, this.#name.table],
    );
    if (references.rows.length === 0) {
      await client.query(`TRUNCATE ${target}`);
      return;
    }
    const fixed = references.rows.find((r) => !r.deferrable);
    if (fixed !== undefined) {
      throw new EtlError(
        'DESTINATION_WRITE',
        `full load into ${this.#tableLabel(schema)}: foreign key ${fixed.name} of ${fixed.referencing} references it and is not DEFERRABLE, ` +
          'so its rows cannot be replaced in one transaction (make the constraint DEFERRABLE, or load in merge mode)',
        { retryable: false },
      );
    }
    // Only deferrable constraints are affected, and only until this transaction ends.
    await client.query('SET CONSTRAINTS ALL DEFERRED');
    await client.query(`DELETE FROM ${target}`);
  }

  async #merge(
    client: PoolClient,
    schema: string,
    existing: readonly ExistingColumn[] | undefined,
    changes: readonly SchemaChange[],
    request: LoadRequest,
    files: readonly string[],
  ): Promise<number> {
    const key = request.key ?? [];
    const columns = request.columns;
    const target = qualified(schema, this.#name.table);
    await this.#prepareTarget(client, target, existing, changes, columns, key);
    if (existing !== undefined) await this.#requireUniqueKey(client, schema, key);
    await client.query(
      `CREATE TEMP TABLE "_etld_merge_stage" (${columnDefinitions(columns)}, "_etld_ord" bigint GENERATED ALWAYS AS IDENTITY) ON COMMIT DROP`,
    );
    await copyFilesInto(client, '"_etld_merge_stage"', columns, files, request.signal);
    const result = await client.query(
      upsertSql({ target, staging: '"_etld_merge_stage"', columns, key, cursor: request.cursor }),
    );
    return result.rowCount ?? 0;
  }

  /**
   * Stages the batch in a temp table shaped like the target (so a value renders the same on both
   * sides) and inserts the n-th copy of a content (over `request.compare`, hashed as the row's
   * text) when the target holds fewer than n rows with that content.
   */
  async #appendMissing(
    client: PoolClient,
    target: string,
    request: LoadRequest,
    files: readonly string[],
  ): Promise<{ staged: number; inserted: number }> {
    const compare = request.compare ?? [];
    if (compare.length === 0)
      throw new EtlError('INTERNAL', `${this.label}: append_missing without the columns to compare`);
    const stage = '"_etld_backfill_stage"';
    await client.query(`CREATE TEMP TABLE ${stage} (LIKE ${target} INCLUDING DEFAULTS) ON COMMIT DROP`);
    const staged = await copyFilesInto(client, stage, request.columns, files, request.signal);
    const content = (alias: string): string =>
      `md5(ROW(${compare.map((c) => `${alias}.${quoteIdent(c)}`).join(', ')})::text)`;
    const list = request.columns.map((c) => quoteIdent(c.name));
    const result = await client.query(
      `INSERT INTO ${target} (${list.join(', ')})
       SELECT ${list.map((c) => `b.${c}`).join(', ')}
         FROM (SELECT s.*, ${content('s')} AS etld_hash,
                      row_number() OVER (PARTITION BY ${content('s')}) AS etld_n FROM ${stage} AS s) AS b
         LEFT JOIN (SELECT ${content('t')} AS etld_hash, count(*) AS etld_k FROM ${target} AS t GROUP BY 1) AS h
           ON h.etld_hash = b.etld_hash
        WHERE b.etld_n > coalesce(h.etld_k, 0)`,
    );
    return { staged, inserted: result.rowCount ?? 0 };
  }

  /** ON CONFLICT needs a unique index on exactly the key columns. */
  async #requireUniqueKey(client: PoolClient, schema: string, key: readonly string[]): Promise<void> {
    const result = await client.query<{ columns: string[] }>(
      `SELECT array_agg(a.attname::text ORDER BY a.attname) AS columns
         FROM pg_index i
         JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY (i.indkey)
        WHERE i.indrelid = to_regclass(format('%I.%I', $1::text, $2::text)) AND i.indisunique AND i.indpred IS NULL
        GROUP BY i.indexrelid`,
      [schema, this.#name.table],
    );
    const wanted = [...key].sort().join(',');
    if (!result.rows.some((r) => [...r.columns].sort().join(',') === wanted)) {
      throw new EtlError(
        'DESTINATION_WRITE',
        `merge into ${this.#tableLabel(schema)} needs a primary key or unique index on (${key.join(', ')}); create one or let etld create the table`,
        { retryable: false },
      );
    }
  }

  async close(): Promise<void> {
    const pool = this.#pool;
    this.#pool = undefined;
    if (pool !== undefined) await pool.end();
  }

  /** `etlctl test`: the table and the privileges a run needs, writing nothing (postgres-access.ts). */
  checkAccess(request: AccessCheckRequest): Promise<AccessCheck[]> {
    return checkPostgresAccess(
      { label: this.label, name: this.#name, connect: () => this.#getPool().connect() },
      request,
    );
  }
}

export const postgresDestination: DestinationDialect<'postgres'> = {
  kind: 'postgres',
  create: (config, context) => new PostgresDestination(config, context),
};
