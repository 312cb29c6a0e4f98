/**
 * BigQuery's estimate of the bytes a load's queries would process (`etlctl plan`), against the
 * strict REST double: the target's numBytes comes from tables.get, which the double sizes from
 * the rows it holds the way BigQuery does (8 per INT64 and DATE, 16 per NUMERIC, 1 per BOOL,
 * 2 + UTF-8 length per STRING, 0 per NULL).
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { BigQueryApi } from '../../daemon/destinations/bigquery/bigquery-api.js';
import { BigQueryDestination } from '../../daemon/destinations/bigquery/bigquery-destination.js';
import { silentLogger } from '../../daemon/logging/logger.js';
import { startBigQueryDouble, type BigQueryDouble } from '../helpers/bigquery-double/bigquery-double.js';
import { col, createStager, type Stager } from '../conformance/staged-batch.js';
import { commitBatch, commitRequest } from '../conformance/commit-batch.js';

let double: BigQueryDouble;
let stager: Stager;
let datasetCounter = 0;

beforeAll(async () => {
  double = await startBigQueryDouble();
  stager = await createStager();
});
afterAll(async () => {
  stager?.close();
  await double?.stop();
});

const COLUMNS = [
  col('id', 'int64'),
  col('name', 'text'),
  col('amount', { kind: 'decimal', precision: 12, scale: 2 }),
  col('ok', 'bool'),
  col('day', 'date'),
];
// id 8 + name (2 + 2) + amount 16 + ok 1 + day 8 = 37; NULLs are 0: 8 + 1 = 9; 'héllo' is 6 UTF-8
// bytes: 8 + (2 + 6) + 16 + 8 = 40.
const ROWS = `(1, 'ab', 1.50, true, DATE '2026-01-01'), (2, NULL, NULL, false, NULL),
  (3, 'héllo', 2.00, NULL, DATE '2026-01-02')`;
const ROWS_BYTES = 37 + 9 + 40;

function destination(maxFileBytes?: number): { dest: BigQueryDestination; dataset: string } {
  datasetCounter += 1;
  const dataset = `cost${datasetCounter}`;
  const dest = new BigQueryDestination(
    {
      type: 'bigquery',
      project: double.project,
      dataset,
      table: 'orders',
      format: 'ndjson',
      api_endpoint: double.endpoint,
    },
    { lakeDir: '/nonexistent', logger: silentLogger, resolveConnection: () => ({}) },
    { poll: { pollMs: 5, maxPollMs: 20 }, ...(maxFileBytes === undefined ? {} : { maxFileBytes }) },
  );
  return { dest, dataset };
}

/** A destination whose table holds ROWS, loaded through a real commit. */
async function withRows(maxFileBytes?: number): Promise<{ dest: BigQueryDestination; dataset: string }> {
  const made = destination(maxFileBytes);
  await commitBatch(made.dest, commitRequest(await stager.stage(COLUMNS, ROWS), { mode: 'incremental' }));
  return made;
}

const api = (): BigQueryApi =>
  new BigQueryApi({
    project: double.project,
    location: undefined,
    keyFile: undefined,
    apiEndpoint: double.endpoint,
  });

describe('tables.get numBytes of the double', () => {
  test('is the logical size of the rows held, and follows them through a merge and a full refresh', async () => {
    const { dest, dataset } = await withRows();
    expect(await api().getTable(dataset, 'orders')).toMatchObject({ numRows: 3, numBytes: ROWS_BYTES });

    // Row 2 gains a name of 3 bytes (+5), row 4 is new: 8 + (2 + 1) + 16 + 1 + 8 = 36.
    const changes = await stager.stage(
      COLUMNS,
      `(2, 'xyz', NULL, false, NULL), (4, 'z', 9.99, true, DATE '2026-01-03')`,
    );
    await commitBatch(dest, commitRequest(changes, { mode: 'merge', key: ['id'], sequence: 2 }));
    expect(await api().getTable(dataset, 'orders')).toMatchObject({
      numRows: 4,
      numBytes: ROWS_BYTES + 5 + 36,
    });

    const one = await stager.stage(COLUMNS, `(9, NULL, NULL, NULL, NULL)`);
    await commitBatch(dest, commitRequest(one, { mode: 'full', sequence: 3 }));
    expect(await api().getTable(dataset, 'orders')).toMatchObject({ numRows: 1, numBytes: 8 });
  });
});

describe('BigQueryDestination.estimateQueryBytes', () => {
  test('merge scans the staged bytes and the whole target table', async () => {
    const { dest } = await withRows();
    const estimate = await dest.estimateQueryBytes('merge', 5_000, 3);
    expect(estimate.queryBytes).toBe(5_000 + ROWS_BYTES);
    expect(estimate.detail).toMatch(/^MERGE scans the staged rows \(~4\.9 KiB, from the files' size/);
    expect(estimate.detail).toContain('compressed files are larger once loaded');
    expect(estimate.detail).toContain(`the target table (${ROWS_BYTES} B, tables.get numBytes)`);
    // A merge goes through staging even with one file.
    expect((await dest.estimateQueryBytes('merge', 5_000, 1)).queryBytes).toBe(5_000 + ROWS_BYTES);
  });

  test('append_missing reads the staged rows and the target table too', async () => {
    const { dest } = await withRows();
    const estimate = await dest.estimateQueryBytes('append_missing', 1_000, 2);
    expect(estimate.queryBytes).toBe(1_000 + ROWS_BYTES);
    expect(estimate.detail).toMatch(/^INSERT … SELECT of the rows the table lacks scans the staged rows/);
  });

  test('a merge into a table that does not exist yet counts the staged bytes only', async () => {
    const { dest } = destination();
    const estimate = await dest.estimateQueryBytes('merge', 2_048, 2);
    expect(estimate).toEqual({
      queryBytes: 2_048,
      detail: expect.stringContaining('the target table, which does not exist yet (0 bytes)') as unknown,
    });
  });

  test('one load file in full or incremental mode is a load job: no query bytes', async () => {
    const { dest } = await withRows();
    for (const mode of ['incremental', 'full'] as const) {
      const estimate = await dest.estimateQueryBytes(mode, 5_000, 1);
      expect(estimate.queryBytes).toBe(0);
      expect(estimate.detail).toContain('a load job writes the table directly (load jobs are not billed)');
    }
  });

  test('several files, or one file over the largest load file, go through staging: the staged bytes', async () => {
    const { dest } = await withRows(4_096);
    for (const mode of ['incremental', 'full'] as const) {
      const estimate = await dest.estimateQueryBytes(mode, 3_000, 3);
      expect(estimate.queryBytes).toBe(3_000);
      expect(estimate.detail).toMatch(/then SELECT … FROM staging scans the staged rows \(~2\.9 KiB/);
    }
    expect((await dest.estimateQueryBytes('incremental', 4_096, 1)).queryBytes).toBe(0);
    expect((await dest.estimateQueryBytes('incremental', 4_097, 1)).queryBytes).toBe(4_097);
  });

  test('reads only: one tables.get for a merge, no request at all otherwise or without files', async () => {
    const { dest, dataset } = await withRows();
    const before = double.requests.length;
    await dest.estimateQueryBytes('merge', 10, 2);
    expect(double.requests.slice(before)).toEqual([
      {
        method: 'GET',
        path: `/bigquery/v2/projects/${double.project}/datasets/${dataset}/tables/orders`,
        body: undefined,
      },
    ]);
    const after = double.requests.length;
    await dest.estimateQueryBytes('incremental', 10, 2);
    expect(await dest.estimateQueryBytes('merge', 0, 0)).toEqual({
      queryBytes: 0,
      detail: 'no file to load: no query runs',
    });
    expect(double.requests.length).toBe(after);
  });

  test('an aborted plan asks nothing', async () => {
    const { dest } = destination();
    const controller = new AbortController();
    controller.abort();
    const before = double.requests.length;
    await expect(dest.estimateQueryBytes('merge', 10, 2, controller.signal)).rejects.toThrow();
    expect(double.requests.length).toBe(before);
  });
});
