import type { DuckDBConnection } from '@duckdb/node-api';
import { DuckDBInstance } from '@duckdb/node-api';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { LoadMode } from '../../daemon/destinations/destination.js';
import type { CommitRequest, StagedBatch } from '../destinations/commit-batch.js';
import { stagingDuckType } from '../../daemon/duckdb/staging-types.js';
import type { ColumnSchema } from '../../shared/types.js';

/** A staging DuckDB like the run engine's: one table per batch, typed with `stagingDuckType`. */
export class Staging {
  readonly #db: DuckDBInstance;
  readonly connection: DuckDBConnection;
  readonly #workDir: string;
  #tables = 0;

  private constructor(db: DuckDBInstance, connection: DuckDBConnection, workDir: string) {
    this.#db = db;
    this.connection = connection;
    this.#workDir = workDir;
  }

  static async open(): Promise<Staging> {
    const db = await DuckDBInstance.create(':memory:');
    const connection = await db.connect();
    await connection.run("SET TimeZone='UTC'");
    return new Staging(db, connection, await mkdtemp(join(tmpdir(), 'etld-work-')));
  }

  /** `rows` are SQL literal tuples in column order, e.g. `(1, 'a', NULL)`. */
  async batch(columns: readonly ColumnSchema[], rows: readonly string[]): Promise<StagedBatch> {
    const relation = `"batch_${++this.#tables}"`;
    const defs = columns.map((c) => `"${c.name}" ${stagingDuckType(c.type)}`).join(', ');
    await this.connection.run(`CREATE TABLE ${relation} (${defs})`);
    if (rows.length > 0) await this.connection.run(`INSERT INTO ${relation} VALUES ${rows.join(', ')}`);
    return { connection: this.connection, relation, columns, rowCount: rows.length, workDir: this.#workDir };
  }

  close(): void {
    this.connection.closeSync();
    this.#db.closeSync();
    void rm(this.#workDir, { recursive: true, force: true });
  }
}

export function request(
  batch: StagedBatch,
  sequence: number,
  mode: LoadMode = 'incremental',
  extra: Partial<Pick<CommitRequest, 'key' | 'cursor' | 'schemaEvolution' | 'pipeline' | 'signal'>> = {},
): CommitRequest {
  return {
    pipeline: extra.pipeline ?? 'orders',
    runId: `run-${sequence}`,
    sequence,
    mode,
    key: extra.key,
    cursor: extra.cursor,
    schemaEvolution: extra.schemaEvolution ?? 'add_columns',
    batch,
    signal: extra.signal ?? new AbortController().signal,
  };
}
