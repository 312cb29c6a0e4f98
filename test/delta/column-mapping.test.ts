/**
 * Column mapping (mode name) end to end: a PostgreSQL table whose column names Delta cannot take
 * plainly is loaded by the run engine (merge, then schema evolution) into a new column-mapped
 * table; a table Spark created with column mapping gets appends, merges and a new column from
 * etld; the Databricks-written fixture gets an append. delta-rs and Spark then read every table
 * by logical name with the exact values. The log itself is checked too: ids, physical names,
 * maxColumnId, protocol, physical stats and partition keys, Parquet field ids.
 */
import { DuckDBInstance } from '@duckdb/node-api';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DeltaFiles } from '../../daemon/destinations/delta/delta-files.js';
import { FileStore } from '../../daemon/storage/file-store.js';
import { DeltaDestination } from '../../daemon/destinations/delta/delta-destination.js';
import { readSnapshot } from '../../daemon/destinations/delta/delta-log-reader.js';
import type { StructField } from '../../daemon/destinations/delta/delta-schema.js';
import { silentLogger } from '../../daemon/logging/logger.js';
import type { ColumnSchema } from '../../shared/types.js';
import { commitBatch } from '../conformance/commit-batch.js';
import { readWithOracle, runSparkSql, type OracleTable } from '../conformance/delta-oracle.js';
import { createHarness, pgConnection, type Harness } from '../engine/engine-harness.js';
import { startPostgres, type PostgresServer } from '../helpers/postgres-server.js';
import { copyFixture, tempDir } from './fixtures.js';
import { Staging, request } from './staging.js';

/** Column names a plain Delta table cannot hold (or holds only awkwardly). */
const HOSTILE = [
  'Customer Name',
  'order-id',
  'größe',
  'a,b',
  'x;y',
  '(paren)',
  'tab\there',
  'eq=1',
  'dot.name',
];

type Row = Record<string, string | boolean | null>;

const sortRows = (rows: readonly Row[]): Row[] =>
  [...rows].sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b)));

function logicalRows(table: OracleTable | undefined, drop: readonly string[] = []): Row[] {
  expect(table?.error, 'reader error').toBeUndefined();
  return sortRows(
    (table?.rows ?? []).map(
      (row) => Object.fromEntries(Object.entries(row).filter(([k]) => !drop.includes(k))) as Row,
    ),
  );
}

async function commits(table: string): Promise<Record<string, Record<string, unknown>>[]> {
  const dir = join(table, '_delta_log');
  const names = (await readdir(dir)).filter((n) => n.endsWith('.json')).sort();
  const lines: Record<string, Record<string, unknown>>[] = [];
  for (const name of names) {
    const text = await readFile(join(dir, name), 'utf8');
    for (const line of text.trim().split('\n')) lines.push(JSON.parse(line));
  }
  return lines;
}

const PG_METADATA = ['_etl_run_id', '_etl_loaded_at', '_etl_pipeline'];

describe('Delta column mapping', () => {
  let pg: PostgresServer;
  let h: Harness;
  let dir: string;
  let cleanup: () => Promise<void>;
  let staging: Staging;
  /** Tables, by role. */
  let fromPostgres: string;
  let sparkCreated: string;
  let fixtureCopy: string;
  let plainNames: string;
  let deltaRs: Record<string, OracleTable>;
  let spark: Record<string, OracleTable>;

  beforeAll(async () => {
    ({ dir, cleanup } = await tempDir('colmap'));
    staging = await Staging.open();
    pg = await startPostgres();
    h = createHarness();

    // 1. PostgreSQL → run engine → a new column-mapped table: merge, merge again, then a new column.
    await pg.createDatabase('names');
    const quoted = HOSTILE.map((n) => `"${n}"`);
    await pg.query(
      `CREATE TABLE "Sales Orders" ("order-id" bigint PRIMARY KEY, "Customer Name" text, "größe" numeric(10,2),
         "a,b" int, "x;y" text, "(paren)" date, "tab\there" text, "eq=1" boolean, "dot.name" text,
         "updated at" timestamptz NOT NULL);
       INSERT INTO "Sales Orders" (${quoted.join(', ')}, "updated at") VALUES
         ('Ada Lovelace', 1, 1.50, 10, 'x1', '2024-01-01', 'tab 1', true, 'd1', '2024-01-01 00:00:00+00'),
         ('Alan Turing', 2, 2.25, NULL, 'x2', NULL, 'tab 2', false, 'd2', '2024-01-02 00:00:00+00'),
         (NULL, 3, NULL, 30, NULL, '2024-03-03', NULL, NULL, NULL, '2024-01-03 00:00:00+00');`,
      [],
      'names',
    );
    const pipeline = h.pipeline({
      name: 'hostile',
      source: {
        type: 'postgres',
        connection: pgConnection(pg, 'names'),
        table: '"Sales Orders"',
        key: ['order-id'],
      },
      load: { mode: 'merge', cursor: 'updated at' },
      destination: { type: 'delta', path: 'hostile' },
    });
    fromPostgres = join(h.lakeDir, 'hostile');
    expect(await h.run(pipeline)).toMatchObject({ rowsLoaded: 3 });
    await pg.query(
      `UPDATE "Sales Orders" SET "Customer Name" = 'Alan M. Turing', "updated at" = '2024-02-01 00:00:00+00' WHERE "order-id" = 2;
       INSERT INTO "Sales Orders" ("order-id", "Customer Name", "updated at") VALUES (4, 'Grace Hopper', '2024-02-02 00:00:00+00');`,
      [],
      'names',
    );
    await h.run(pipeline);
    await pg.query(
      `ALTER TABLE "Sales Orders" ADD COLUMN "Neue Spalte!" text;
       UPDATE "Sales Orders" SET "Neue Spalte!" = 'neu', "updated at" = '2024-03-01 00:00:00+00' WHERE "order-id" = 1;`,
      [],
      'names',
    );
    await h.run(pipeline);

    // 2. A table Spark created with column mapping: etld appends, merges, and adds a column.
    sparkCreated = join(dir, 'spark_created');
    await runSparkSql([
      `CREATE TABLE delta.\`${sparkCreated}\` (id BIGINT, \`Customer Name\` STRING, \`größe\` INT) USING delta ` +
        `TBLPROPERTIES ('delta.columnMapping.mode' = 'name', 'delta.minReaderVersion' = '2', 'delta.minWriterVersion' = '5')`,
      `INSERT INTO delta.\`${sparkCreated}\` VALUES (1, 'Ann', 10), (2, 'Bob', 20)`,
    ]);
    const toSpark = new DeltaDestination({ store: new FileStore(sparkCreated), logger: silentLogger });
    const sparkColumns: ColumnSchema[] = [
      { name: 'id', type: { kind: 'int64' }, nullable: true },
      { name: 'Customer Name', type: { kind: 'text' }, nullable: true },
      { name: 'größe', type: { kind: 'int32' }, nullable: true },
    ];
    await commitBatch(toSpark, request(await staging.batch(sparkColumns, [`(3, 'Cy', 30)`]), 1));
    await commitBatch(
      toSpark,
      request(await staging.batch(sparkColumns, [`(2, 'Bobby', 21)`, `(4, 'Dee', 40)`]), 2, 'merge', {
        key: ['id'],
      }),
    );
    const evolved: ColumnSchema[] = [
      ...sparkColumns,
      { name: 'Extra Col', type: { kind: 'text' }, nullable: true },
    ];
    await commitBatch(
      toSpark,
      request(await staging.batch(evolved, [`(1, 'Ann', 11, 'e1')`, `(5, 'Eve', 50, 'e5')`]), 3, 'merge', {
        key: ['id'],
      }),
    );
    await toSpark.close();

    // 3. The Databricks-written fixture (partitioned by a mapped column): an append.
    fixtureCopy = await copyFixture('table_with_column_mapping', dir);
    const toFixture = new DeltaDestination({ store: new FileStore(fixtureCopy), logger: silentLogger });
    const fixtureColumns: ColumnSchema[] = [
      { name: 'Company Very Short', type: { kind: 'text' }, nullable: true },
      { name: 'Super Name', type: { kind: 'text' }, nullable: true },
    ];
    await commitBatch(
      toFixture,
      request(
        await staging.batch(fixtureColumns, [`('BMS', 'New Person')`, `('N/W', 'Other Person')`]),
        1,
        'incremental',
        {
          pipeline: 'fixture_append',
        },
      ),
    );
    await toFixture.close();

    // 4. Plain names stay a plain table.
    plainNames = join(dir, 'plain');
    const plain = new DeltaDestination({ store: new FileStore(plainNames), logger: silentLogger });
    await commitBatch(
      plain,
      request(
        await staging.batch([{ name: 'order-id', type: { kind: 'int64' }, nullable: true }], ['(1)']),
        1,
      ),
    );
    await plain.close();

    const tables = [fromPostgres, sparkCreated, fixtureCopy];
    deltaRs = await readWithOracle('deltalake', tables);
    spark = await readWithOracle('spark', tables);
  }, 900_000);

  afterAll(async () => {
    staging?.close();
    h?.destroy();
    await pg?.destroy();
    await cleanup?.();
  });

  it('creates a column-mapped table when a column name is not plain: ids, physical names, maxColumnId, protocol 2/5', async () => {
    const snapshot = await readSnapshot(new DeltaFiles(new FileStore(fromPostgres)), () =>
      Promise.reject(new Error('no checkpoint expected')),
    );
    expect(snapshot?.protocol).toEqual({ minReaderVersion: 2, minWriterVersion: 5 });
    const fields = snapshot?.schema.fields ?? [];
    expect(fields.map((f) => f.name)).toEqual([
      'order-id',
      'Customer Name',
      'größe',
      'a,b',
      'x;y',
      '(paren)',
      'tab\there',
      'eq=1',
      'dot.name',
      'updated at',
      ...PG_METADATA,
      'Neue Spalte!',
    ]);
    const ids = fields.map((f) => f.metadata['delta.columnMapping.id']);
    expect(ids).toEqual(fields.map((_, i) => i + 1));
    for (const field of fields)
      expect(field.metadata['delta.columnMapping.physicalName']).toMatch(/^col-[0-9a-f-]{36}$/);
    expect(snapshot?.metadata.configuration).toMatchObject({
      'delta.columnMapping.mode': 'name',
      'delta.columnMapping.maxColumnId': String(fields.length),
    });
  });

  it('keys stats by physical name and writes physical names with field ids into the files', async () => {
    const snapshot = await readSnapshot(new DeltaFiles(new FileStore(fromPostgres)), () =>
      Promise.reject(new Error('no checkpoint expected')),
    );
    const fields = snapshot?.schema.fields ?? [];
    const physical = (f: StructField): string => String(f.metadata['delta.columnMapping.physicalName']);
    const byLogical = new Map(fields.map((f) => [f.name, physical(f)]));
    const add = [...(snapshot?.files.values() ?? [])].at(-1);
    const stats = JSON.parse(add?.stats ?? '{}') as { nullCount: Record<string, number> };
    expect(Object.keys(stats.nullCount).sort()).toEqual(fields.map(physical).sort());
    for (const name of HOSTILE) expect(stats.nullCount).not.toHaveProperty([name]);
    const db = await DuckDBInstance.create(':memory:');
    const connection = await db.connect();
    try {
      const file = join(fromPostgres, add?.path ?? '');
      const schema = (
        await connection.runAndReadAll(
          `SELECT name, field_id FROM parquet_schema('${file}') WHERE field_id IS NOT NULL`,
        )
      ).getRowsJS();
      expect(schema).toEqual(
        fields.map((f) => [physical(f), BigInt(Number(f.metadata['delta.columnMapping.id']))]),
      );
      expect(byLogical.get('Customer Name')).toBeDefined();
    } finally {
      connection.closeSync();
      db.closeSync();
    }
  });

  const EXPECTED_PG: Row[] = [
    {
      'order-id': '1',
      'Customer Name': 'Ada Lovelace',
      größe: '1.50',
      'a,b': '10',
      'x;y': 'x1',
      '(paren)': '2024-01-01',
      'tab\there': 'tab 1',
      'eq=1': true,
      'dot.name': 'd1',
      'updated at': '2024-03-01T00:00:00.000000Z',
      'Neue Spalte!': 'neu',
    },
    {
      'order-id': '2',
      'Customer Name': 'Alan M. Turing',
      größe: '2.25',
      'a,b': null,
      'x;y': 'x2',
      '(paren)': null,
      'tab\there': 'tab 2',
      'eq=1': false,
      'dot.name': 'd2',
      'updated at': '2024-02-01T00:00:00.000000Z',
      'Neue Spalte!': null,
    },
    {
      'order-id': '3',
      'Customer Name': null,
      größe: null,
      'a,b': '30',
      'x;y': null,
      '(paren)': '2024-03-03',
      'tab\there': null,
      'eq=1': null,
      'dot.name': null,
      'updated at': '2024-01-03T00:00:00.000000Z',
      'Neue Spalte!': null,
    },
    {
      'order-id': '4',
      'Customer Name': 'Grace Hopper',
      größe: null,
      'a,b': null,
      'x;y': null,
      '(paren)': null,
      'tab\there': null,
      'eq=1': null,
      'dot.name': null,
      'updated at': '2024-02-02T00:00:00.000000Z',
      'Neue Spalte!': null,
    },
  ];

  it('delta-rs and Spark read the PostgreSQL rows by logical name after merges and a new column', () => {
    for (const [engine, tables] of [
      ['delta-rs', deltaRs],
      ['spark', spark],
    ] as const) {
      expect(logicalRows(tables[fromPostgres], PG_METADATA), engine).toEqual(sortRows(EXPECTED_PG));
    }
  });

  it('appends, merges and adds a column in a table Spark created with column mapping', async () => {
    const expected: Row[] = [
      { id: '1', 'Customer Name': 'Ann', größe: '11', 'Extra Col': 'e1' },
      { id: '2', 'Customer Name': 'Bobby', größe: '21', 'Extra Col': null },
      { id: '3', 'Customer Name': 'Cy', größe: '30', 'Extra Col': null },
      { id: '4', 'Customer Name': 'Dee', größe: '40', 'Extra Col': null },
      { id: '5', 'Customer Name': 'Eve', größe: '50', 'Extra Col': 'e5' },
    ];
    expect(logicalRows(deltaRs[sparkCreated]), 'delta-rs').toEqual(sortRows(expected));
    expect(logicalRows(spark[sparkCreated]), 'spark').toEqual(sortRows(expected));
    const snapshot = await readSnapshot(new DeltaFiles(new FileStore(sparkCreated)), () =>
      Promise.reject(new Error('no checkpoint expected')),
    );
    const extra = snapshot?.schema.fields.find((f) => f.name === 'Extra Col');
    expect(extra?.metadata['delta.columnMapping.id']).toBe(4);
    expect(snapshot?.metadata.configuration['delta.columnMapping.maxColumnId']).toBe('4');
  });

  it('appends to the Databricks-written partitioned table with physical partition keys', async () => {
    for (const tables of [deltaRs, spark]) {
      const rows = logicalRows(tables[fixtureCopy]);
      expect(rows).toContainEqual({ 'Company Very Short': 'BMS', 'Super Name': 'New Person' });
      expect(rows).toContainEqual({ 'Company Very Short': 'N/W', 'Super Name': 'Other Person' });
      expect(rows).toContainEqual({ 'Company Very Short': 'BMS', 'Super Name': 'Anthony Johnson' });
      expect(rows).toHaveLength(7);
    }
    const added = (await commits(fixtureCopy)).filter((l) => l.add !== undefined).slice(2);
    for (const line of added) {
      expect(Object.keys(line.add?.partitionValues as object)).toEqual([
        'col-173b4db9-b5ad-427f-9e75-516aae37fbbb',
      ]);
    }
  });

  it('keeps a table of plain names plain (protocol 1/2, no mapping metadata)', async () => {
    const snapshot = await readSnapshot(new DeltaFiles(new FileStore(plainNames)), () =>
      Promise.reject(new Error('no checkpoint expected')),
    );
    expect(snapshot?.protocol).toEqual({ minReaderVersion: 1, minWriterVersion: 2 });
    expect(snapshot?.metadata.configuration).toEqual({});
    expect(snapshot?.schema.fields[0]?.metadata).toEqual({});
  });
});
