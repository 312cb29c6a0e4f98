/**
 * `DestinationLoad.readBack`, which the data quality checks of a streamed run read instead of
 * parsing each part a second time: where a destination offers it, the relation must hold exactly
 * the rows the part wrote, and, cast back to the staging types (`BatchChecks.restaged`), the very
 * values staged: a TIME that Delta keeps as text, 24:00:00 included, a Delta field whose name
 * differs from the batch column only in case, NULLs. Where the written files do not hold exactly
 * the part's rows (a partitioned Delta table, a merge, BigQuery NDJSON, PostgreSQL's COPY) it is
 * not offered, and the checks fall back to a consumer of their own.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BigQueryDestination } from '../../daemon/destinations/bigquery/bigquery-destination.js';
import { DeltaDestination } from '../../daemon/destinations/delta/delta-destination.js';
import type { Destination, DestinationLoad, LoadMode } from '../../daemon/destinations/destination.js';
import { duckdbDestination } from '../../daemon/destinations/duckdb/duckdb-destination.js';
import { BatchChecks } from '../../daemon/engine/quality-checks.js';
import { queryStrings } from '../../daemon/duckdb/duck-sql.js';
import { FanoutLogger, silentLogger } from '../../daemon/logging/logger.js';
import type { ColumnSchema } from '../../shared/types.js';
import { startBigQueryDouble, type BigQueryDouble } from '../helpers/bigquery-double/bigquery-double.js';
import { commitBatch } from '../conformance/commit-batch.js';
import { copyFixture } from '../delta/fixtures.js';
import { Staging, request } from '../delta/staging.js';
import { FileStore } from '../../daemon/storage/file-store.js';

const COLUMNS: ColumnSchema[] = [
  { name: 'id', type: { kind: 'int64' }, nullable: false },
  { name: 'code', type: { kind: 'text' }, nullable: true },
  { name: 'opens', type: { kind: 'time' }, nullable: true },
  { name: 'amount', type: { kind: 'decimal', precision: 12, scale: 2 }, nullable: true },
  { name: 'changed_at', type: { kind: 'timestamptz' }, nullable: true },
];

const ROWS = [
  `(1, 'ok', TIME '08:30:00.123456', 12.50, TIMESTAMPTZ '2024-01-01 10:00:00.000001+00')`,
  `(2, NULL, TIME '24:00:00', -0.01, NULL)`,
  `(3, 'ok', NULL, NULL, TIMESTAMPTZ '1999-12-31 23:59:59+00')`,
  `(4, 'é', TIME '00:00:00', 99999.99, TIMESTAMPTZ '2024-06-30 00:00:00+00')`,
];

/** Parquet types TIME does not fit for BigQuery's Parquet load: its columns without the TIME. */
const BIGQUERY_COLUMNS = COLUMNS.filter((c) => c.name !== 'opens');

let staging: Staging;
let dir: string;
let double: BigQueryDouble;

beforeAll(async () => {
  staging = await Staging.open();
  dir = await mkdtemp(join(tmpdir(), 'etld-read-back-'));
  double = await startBigQueryDouble();
});
afterAll(async () => {
  staging.close();
  await rm(dir, { recursive: true, force: true });
  await double.stop();
});

let tables = 0;

function delta(): DeltaDestination {
  return new DeltaDestination({ store: new FileStore(join(dir, `delta_${++tables}`)), logger: silentLogger });
}

function duckdb(): Destination {
  return duckdbDestination.create(
    { type: 'duckdb', path: `warehouse_${++tables}.duckdb`, table: 'items' },
    { lakeDir: dir, logger: silentLogger, resolveConnection: () => ({}) },
  );
}

function bigquery(format: 'parquet' | 'ndjson'): Destination {
  return new BigQueryDestination(
    {
      type: 'bigquery',
      project: double.project,
      dataset: `rb${++tables}`,
      table: 'items',
      format,
      api_endpoint: double.endpoint,
    },
    { lakeDir: '/nonexistent', logger: new FanoutLogger([]), resolveConnection: () => ({}) },
    { poll: { pollMs: 5, maxPollMs: 20 } },
  );
}

async function begin(
  destination: Destination,
  columns: readonly ColumnSchema[],
  mode: LoadMode = 'incremental',
): Promise<DestinationLoad> {
  const batch = await staging.batch(columns, []);
  const { batch: _batch, ...rest } = request(batch, 1, mode, mode === 'merge' ? { key: ['id'] } : {});
  return destination.beginLoad({ ...rest, columns, workDir: batch.workDir });
}

/** Rows in one relation and not the other, both ways (0: the same multiset of rows). */
async function differingRows(a: string, b: string): Promise<number> {
  const rows = await queryStrings(
    staging.connection,
    `SELECT count(*) FROM ((${a} EXCEPT ALL ${b}) UNION ALL (${b} EXCEPT ALL ${a}))`,
  );
  return Number(rows[0]?.[0]);
}

/** Writes ROWS as one streamed part and checks what `readBack` returns for it. */
async function expectReadBackOfWrittenRows(
  destination: Destination,
  columns: readonly ColumnSchema[],
): Promise<void> {
  const batch = await staging.batch(
    columns,
    ROWS.map((row) =>
      columns.length === COLUMNS.length ? row : row.replace(/, (TIME '[^']*'|NULL), /, ', '),
    ),
  );
  const load = await begin(destination, columns);
  try {
    expect(load.readBack).toBeTypeOf('function');
    const written = await load.writePart({
      connection: staging.connection,
      select: `SELECT * FROM ${batch.relation}`,
      id: 's1/1',
    });
    expect(written).toBe(4);
    expect(load.readBack?.('s1/2')).toBeNull();
    const relation = load.readBack?.('s1/1');
    expect(relation).toBeTypeOf('string');
    const restaged = new BatchChecks([], columns).restaged(relation ?? '');
    expect(await differingRows(`SELECT * FROM ${batch.relation}`, restaged)).toBe(0);
    expect(await queryStrings(staging.connection, `SELECT count(*) FROM (${restaged})`)).toEqual([['4']]);
  } finally {
    await load.abort();
  }
}

describe('readBack: the rows a part wrote, as staged', () => {
  it('Delta (unpartitioned): TIME kept as text, 24:00:00, NULLs and decimals come back as staged', async () => {
    await expectReadBackOfWrittenRows(delta(), COLUMNS);
  });

  it('Delta: a field whose name differs from the batch column only in case is read under the batch name', async () => {
    const destination = delta();
    const upper = COLUMNS.map((c) => (c.name === 'code' ? { ...c, name: 'CODE' } : c));
    // The table is created with `CODE`; the next batch calls it `code`.
    await commitBatch(destination, request(await staging.batch(upper, [ROWS[0] ?? '']), 1));
    await expectReadBackOfWrittenRows(destination, COLUMNS);
  });

  it('DuckDB', async () => {
    await expectReadBackOfWrittenRows(duckdb(), COLUMNS);
  });

  it('BigQuery with Parquet load files', async () => {
    await expectReadBackOfWrittenRows(bigquery('parquet'), BIGQUERY_COLUMNS);
  });

  it('a part that wrote nothing has nothing to read back', async () => {
    const load = await begin(duckdb(), COLUMNS);
    const empty = await staging.batch(COLUMNS, []);
    expect(
      await load.writePart({
        connection: staging.connection,
        select: `SELECT * FROM ${empty.relation}`,
        id: 'p',
      }),
    ).toBe(0);
    expect(load.readBack?.('p')).toBeNull();
    await load.abort();
  });
});

describe('readBack is not offered where the files do not hold exactly the part', () => {
  it('a partitioned Delta table (partition values live in the log)', async () => {
    const table = await copyFixture('delta-0.8.0-null-partition', join(dir, `fixture_${++tables}`));
    const destination = new DeltaDestination({ store: new FileStore(table), logger: silentLogger });
    const load = await begin(destination, [
      { name: 'k', type: { kind: 'text' }, nullable: true },
      { name: 'v', type: { kind: 'int64' }, nullable: true },
    ]);
    expect(load.readBack).toBeUndefined();
    await load.abort();
  });

  it('a merge, into Delta and BigQuery (it rewrites old rows or de-duplicates the batch)', async () => {
    for (const destination of [delta(), bigquery('parquet')]) {
      const load = await begin(destination, BIGQUERY_COLUMNS, 'merge');
      expect(load.readBack).toBeUndefined();
      await load.abort();
    }
  });

  it('BigQuery NDJSON load files (text)', async () => {
    const load = await begin(bigquery('ndjson'), BIGQUERY_COLUMNS);
    expect(load.readBack).toBeUndefined();
    await load.abort();
  });
});
