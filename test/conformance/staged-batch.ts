/**
 * Builds a StagedBatch the way the run engine does: an in-memory DuckDB under the UTC time zone,
 * one table typed with `stagingDuckType()`, filled by a VALUES list or a SELECT.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api';
import type { StagedBatch } from './commit-batch.js';
import { stagingDuckType } from '../../daemon/duckdb/staging-types.js';
import type { CanonicalType, ColumnSchema } from '../../shared/types.js';

export function col(
  name: string,
  type: CanonicalType['kind'] | CanonicalType,
  nullable = true,
): ColumnSchema {
  return { name, type: typeof type === 'string' ? ({ kind: type } as CanonicalType) : type, nullable };
}

export interface Stager {
  /** `rows` is a SQL VALUES body (`(1,'a'),(2,'b')`), a full SELECT producing the columns in order, or empty. */
  stage(columns: readonly ColumnSchema[], rows: string): Promise<StagedBatch>;
  readonly connection: DuckDBConnection;
  close(): void;
}

export async function createStager(): Promise<Stager> {
  const instance = await DuckDBInstance.create(':memory:');
  const connection = await instance.connect();
  await connection.run("SET TimeZone='UTC'");
  const workRoot = mkdtempSync(join(tmpdir(), 'etld-dest-test-'));
  let counter = 0;
  return {
    connection,
    async stage(columns, rows) {
      counter += 1;
      const relation = `"staged_${counter}"`;
      const defs = columns.map((c) => `"${c.name}" ${stagingDuckType(c.type)}`).join(', ');
      await connection.run(`CREATE TABLE ${relation} (${defs})`);
      if (rows.trim() !== '') {
        const body = /^\s*(select|with)\b/i.test(rows) ? rows : `VALUES ${rows}`;
        await connection.run(`INSERT INTO ${relation} ${body}`);
      }
      const count = await connection.runAndReadAll(`SELECT count(*)::INTEGER FROM ${relation}`);
      const workDir = mkdtempSync(join(workRoot, 'run-'));
      return { connection, relation, columns, rowCount: Number(count.getRows()[0]?.[0] ?? 0), workDir };
    },
    close() {
      connection.closeSync();
      instance.closeSync();
      rmSync(workRoot, { recursive: true, force: true });
    },
  };
}
