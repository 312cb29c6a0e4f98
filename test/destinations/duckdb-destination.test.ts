/**
 * The DuckDB destination: the conformance suite, plus what only DuckDB shows: the database file
 * appears with the first commit, commit records live in `_etld_commits` beside the data, a full
 * load leaves no build table behind, and schema messages name DuckDB's own types.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Destination } from '../../daemon/destinations/destination.js';
import type { ColumnSchema } from '../../shared/types.js';
import { commitBatch, commitRequest } from '../conformance/commit-batch.js';
import { runDestinationConformance, type DestinationFixture } from '../conformance/destination.case.js';
import { duckdbFixture } from '../conformance/destinations/duckdb.js';
import { col, createStager, type Stager } from '../conformance/staged-batch.js';

runDestinationConformance({ name: 'DuckDB', setup: () => Promise.resolve(duckdbFixture()) });

const BASE: ColumnSchema[] = [
  col('id', 'int64', false),
  col('name', 'text'),
  col('amount', { kind: 'decimal', precision: 18, scale: 2 }),
];

let fixture: DestinationFixture & { readonly lakeDir: string };
let stager: Stager;

beforeAll(async () => {
  fixture = duckdbFixture();
  stager = await createStager();
});
afterAll(async () => {
  stager?.close();
  await fixture?.close();
});

async function readFile(table: string, sql: string): Promise<unknown[][]> {
  const instance = await DuckDBInstance.create(join(fixture.lakeDir, `${table}.duckdb`), {
    access_mode: 'READ_ONLY',
  });
  const connection = await instance.connect();
  try {
    return (await connection.runAndReadAll(sql)).getRowsJS();
  } finally {
    connection.closeSync();
    instance.closeSync();
  }
}

async function load(
  destination: Destination,
  rows: string,
  overrides: Parameters<typeof commitRequest>[1],
): Promise<void> {
  await commitBatch(destination, commitRequest(await stager.stage(BASE, rows), overrides));
}

describe('DuckDB destination', () => {
  it('creates the database file only with the first commit, and labels itself with its path', async () => {
    const destination = fixture.destination('fresh');
    await destination.planSchema(BASE, 'add_columns');
    await destination.committedSequence('fresh');
    expect(existsSync(join(fixture.lakeDir, 'fresh.duckdb'))).toBe(false);
    expect(destination.label).toContain(join(fixture.lakeDir, 'fresh.duckdb'));
  });

  it('records each commit in _etld_commits, in the same file and transaction as the data', async () => {
    const destination = fixture.destination('records');
    await load(destination, `(1, 'a', 1.50), (2, 'b', NULL)`, { pipeline: 'records', sequence: 1 });
    await load(destination, `(3, 'c', 2.25)`, { pipeline: 'records', sequence: 2 });
    expect(
      await readFile(
        'records',
        'SELECT pipeline, sequence, run_id, rows_loaded FROM _etld_commits ORDER BY sequence',
      ),
    ).toEqual([
      ['records', 1n, 'run-1', 2n],
      ['records', 2n, 'run-2', 1n],
    ]);
  });

  it('leaves no build table behind after a full load', async () => {
    const destination = fixture.destination('swapped');
    await load(destination, `(1, 'a', 1)`, { pipeline: 'swapped', sequence: 1, mode: 'full' });
    await load(destination, `(7, 'z', 7)`, { pipeline: 'swapped', sequence: 2, mode: 'full' });
    expect(
      await readFile(
        'swapped',
        `SELECT count(*) FROM information_schema.tables WHERE table_name LIKE '%__etld_new'`,
      ),
    ).toEqual([[0n]]);
  });

  it('names DuckDB types in schema messages', async () => {
    const destination = fixture.destination('typed');
    await load(destination, `(1, 'a', 1)`, { pipeline: 'typed', sequence: 1 });
    const retyped = BASE.map((c) => (c.name === 'amount' ? { ...c, type: { kind: 'int32' as const } } : c));
    await expect(destination.planSchema(retyped, 'add_columns')).rejects.toThrow(
      /column "amount" is DECIMAL\(18,2\) in duckdb .* but the incoming rows have int32 \(INTEGER\)/,
    );
    await expect(destination.planSchema(BASE.slice(0, 2), 'add_columns')).rejects.toThrow(
      /column "amount" \(DECIMAL\(18,2\) in duckdb .*\) is missing from the incoming rows/,
    );
  });
});
