import { afterAll, afterEach, beforeAll, describe, expect, test } from 'vitest';
import { BigQueryDestination } from '../../daemon/destinations/bigquery/bigquery-destination.js';
import { classifyReason } from '../../daemon/destinations/bigquery/bigquery-errors.js';
import { FanoutLogger } from '../../daemon/logging/logger.js';
import { startBigQueryDouble, type BigQueryDouble } from '../helpers/bigquery-double/bigquery-double.js';
import { col, createStager, type Stager } from '../conformance/staged-batch.js';
import { commitBatch, commitRequest, failure } from '../conformance/commit-batch.js';
import {
  ALL_TYPES as CONFORMANCE_TYPES,
  runDestinationConformance,
} from '../conformance/destination.case.js';
import { bigqueryDoubleFixture } from '../conformance/destinations/bigquery.js';

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
afterEach(() => {
  double.failJob = undefined;
  double.pollsUntilDone = 1;
});

function destination(
  options: { table?: string; format?: 'ndjson' | 'parquet'; maxFileBytes?: number } = {},
): { dest: BigQueryDestination; dataset: string } {
  datasetCounter += 1;
  const dataset = `ds${datasetCounter}`;
  const dest = new BigQueryDestination(
    {
      type: 'bigquery',
      project: double.project,
      dataset,
      table: options.table ?? 'orders',
      format: options.format ?? 'ndjson',
      api_endpoint: double.endpoint,
    },
    { lakeDir: '/nonexistent', logger: new FanoutLogger([]), resolveConnection: () => ({}) },
    {
      poll: { pollMs: 5, maxPollMs: 20 },
      ...(options.maxFileBytes === undefined ? {} : { maxFileBytes: options.maxFileBytes }),
    },
  );
  return { dest, dataset };
}

const request = commitRequest;

/** The conformance suite's columns without the types BigQuery widens (INT64 holds int16, FLOAT64 float32). */
const ALL_TYPES = CONFORMANCE_TYPES.filter((c) => c.type.kind !== 'int16' && c.type.kind !== 'float32');

runDestinationConformance({
  name: 'BigQuery (REST double, NDJSON load files)',
  setup: () => Promise.resolve(bigqueryDoubleFixture(double, 'conformance_ndjson', 'ndjson')),
});
runDestinationConformance({
  name: 'BigQuery (REST double, Parquet load files)',
  setup: () => Promise.resolve(bigqueryDoubleFixture(double, 'conformance_parquet', 'parquet')),
});

describe('bigquery destination against the strict REST double', () => {
  test('full load: dataset and table created with mapped types, every value exact, job id recorded', async () => {
    const { dest, dataset } = destination();
    const batch = await stager.stage(
      ALL_TYPES,
      `(1, 9007199254740993, 'nan'::DOUBLE, true, 12345678.91, 1234567890123456789012345678.0123456789, 'quote '' " \\ end',
        '\\x00\\xFF'::BLOB, DATE '2024-02-29', TIME '23:59:59.999999', TIMESTAMP '1999-12-31 23:59:59.123456',
        TIMESTAMPTZ '2024-01-02 03:04:05.654321+00', '{"a":[1,2]}', '123e4567-e89b-12d3-a456-426614174000'),
       (2, -9223372036854775808, 'inf'::DOUBLE, false, -0.01, 0.0000000001, '', NULL, NULL, NULL, NULL, NULL, NULL, NULL)`,
    );
    const plan = await dest.planSchema(ALL_TYPES, 'add_columns');
    expect(plan).toEqual([expect.objectContaining({ column: '*', change: 'create' })]);
    expect(plan[0]?.detail.split(': ')[1]?.split(', ')).toEqual(
      expect.arrayContaining([
        'small NUMERIC(18,2)',
        'wide BIGNUMERIC(38,10)',
        'ts DATETIME',
        'tz TIMESTAMP',
      ]),
    );
    const result = await commitBatch(dest, request(batch, { mode: 'full' }));
    expect(result).toMatchObject({
      alreadyCommitted: false,
      rowsLoaded: 2,
      details: { jobId: `etld_orders_${dataset}_orders_1_commit`, files: 1, format: 'ndjson' },
    });

    const load = double.jobs.get(`etld_orders_${dataset}_orders_1_commit`)?.request.configuration.load;
    expect(load).toMatchObject({
      sourceFormat: 'NEWLINE_DELIMITED_JSON',
      writeDisposition: 'WRITE_TRUNCATE',
      createDisposition: 'CREATE_IF_NEEDED',
      maxBadRecords: 0,
    });
    expect(load?.schemaUpdateOptions).toBeUndefined();
    expect(load?.schema.fields.map((f) => f.type)).toEqual([
      'INT64',
      'INT64',
      'FLOAT64',
      'BOOL',
      'NUMERIC',
      'BIGNUMERIC',
      'STRING',
      'BYTES',
      'DATE',
      'TIME',
      'DATETIME',
      'TIMESTAMP',
      'JSON',
      'STRING',
    ]);

    const rows = await double.storage.textRows(dataset, 'orders', 'i32');
    expect(rows[0]).toEqual({
      i32: '1',
      i64: '9007199254740993',
      f64: 'nan',
      b: 'true',
      small: '12345678.91',
      wide: '1234567890123456789012345678.0123456789',
      t: `quote ' " \\ end`,
      by: 'AP8=',
      dt: '2024-02-29',
      tm: '23:59:59.999999',
      ts: '1999-12-31 23:59:59.123456',
      tz: '2024-01-02 03:04:05.654321+00',
      j: '{"a":[1,2]}',
      u: '123e4567-e89b-12d3-a456-426614174000',
    });
    expect(rows[1]).toMatchObject({
      i64: '-9223372036854775808',
      f64: 'inf',
      small: '-0.01',
      wide: '0.0000000001',
      t: '',
      by: null,
      j: null,
    });
    expect((await dest.committedSequence('orders'))?.sequence).toBe(1);
    expect(await double.storage.textRows(dataset, '_etld_commits', 'sequence')).toEqual([
      expect.objectContaining({
        pipeline: 'orders',
        sequence: '1',
        run_id: 'run-1',
        table_id: 'orders',
        job_id: `etld_orders_${dataset}_orders_1_commit`,
        row_count: '2',
      }),
    ]);
  });

  test('a committed sequence is never loaded again; the next one appends', async () => {
    const { dest, dataset } = destination();
    const columns = [col('id', 'int64'), col('v', 'text')];
    await commitBatch(dest, request(await stager.stage(columns, `(1, 'a')`), { sequence: 5 }));
    const uploadsBefore = double.requests.filter((r) => r.body === 'multipart').length;
    const again = await commitBatch(
      dest,
      request(await stager.stage(columns, `(1, 'a')`), { sequence: 5, runId: 'retry' }),
    );
    expect(again).toMatchObject({
      alreadyCommitted: true,
      rowsLoaded: 0,
      details: { jobId: `etld_orders_${dataset}_orders_5_commit` },
    });
    expect(double.requests.filter((r) => r.body === 'multipart').length).toBe(uploadsBefore);
    await commitBatch(dest, request(await stager.stage(columns, `(2, 'b')`), { sequence: 6 }));
    expect((await double.storage.textRows(dataset, 'orders', 'id')).map((r) => r.id)).toEqual(['1', '2']);
    expect(
      double.jobs.get(`etld_orders_${dataset}_orders_6_commit`)?.request.configuration.load?.writeDisposition,
    ).toBe('WRITE_APPEND');
    expect((await dest.committedSequence('orders'))?.sequence).toBe(6);
    expect(await dest.committedSequence('another')).toBeNull();
  });

  test('polls a RUNNING job until DONE', async () => {
    double.pollsUntilDone = 4;
    const { dest, dataset } = destination();
    await commitBatch(dest, request(await stager.stage([col('id', 'int64')], `(1), (2)`)));
    expect(double.jobs.get(`etld_orders_${dataset}_orders_1_commit`)?.polls).toBe(4);
    expect((await double.storage.textRows(dataset, 'orders', 'id')).length).toBe(2);
  });

  test('an insert whose answer is lost is repeated under the same id: 409 duplicate attaches, the batch loads once', async () => {
    const { dest, dataset } = destination();
    double.loseInsertResponse.add(`etld_orders_${dataset}_orders_1_commit`);
    double.pollsUntilDone = 2;
    const result = await commitBatch(
      dest,
      request(await stager.stage([col('id', 'int64')], `(1), (2), (3)`)),
    );
    expect(double.jobs.get(`etld_orders_${dataset}_orders_1_commit`)?.inserts).toBe(2);
    expect(result.details.jobId).toBe(`etld_orders_${dataset}_orders_1_commit`);
    expect((await double.storage.textRows(dataset, 'orders', 'id')).length).toBe(3);
  });

  test('a failed job surfaces reason, location and message; nothing is committed; a retry reruns under a new id', async () => {
    const { dest, dataset } = destination();
    const columns = [col('id', 'int64'), col('v', 'text')];
    await commitBatch(dest, request(await stager.stage(columns, `(1, 'kept')`), { sequence: 1 }));
    double.failJob = (job) =>
      job.id.startsWith(`etld_orders_${dataset}_orders_2_commit`)
        ? { reason: 'invalid', location: 'line 2', message: 'Could not parse value' }
        : undefined;
    const error = await failure(
      commitBatch(dest, request(await stager.stage(columns, `(2, 'x'), (3, 'y')`), { sequence: 2 })),
    );
    expect(error.code).toBe('DESTINATION_WRITE');
    expect(error.retryable).toBe(false);
    expect(error.message).toContain('invalid at line 2: Could not parse value');
    expect(error.message).toContain(`etld_orders_${dataset}_orders_2_commit`);
    expect((await double.storage.textRows(dataset, 'orders', 'id')).map((r) => r.id)).toEqual(['1']);
    expect((await dest.committedSequence('orders'))?.sequence).toBe(1);

    double.failJob = undefined;
    const retried = await commitBatch(
      dest,
      request(await stager.stage(columns, `(2, 'x'), (3, 'y')`), { sequence: 2, runId: 'run-2b' }),
    );
    expect(retried.details.jobId).toBe(`etld_orders_${dataset}_orders_2_commit_r2`);
    expect((await double.storage.textRows(dataset, 'orders', 'id')).map((r) => r.id)).toEqual([
      '1',
      '2',
      '3',
    ]);
    expect((await dest.committedSequence('orders'))?.sequence).toBe(2);
  });

  test.each([
    ['quotaExceeded', 'DESTINATION_QUOTA', true],
    ['rateLimitExceeded', 'DESTINATION_QUOTA', true],
    ['backendError', 'DESTINATION_WRITE', true],
    ['internalError', 'DESTINATION_WRITE', true],
    ['invalid', 'DESTINATION_WRITE', false],
    ['invalidQuery', 'DESTINATION_WRITE', false],
    ['notFound', 'DESTINATION_WRITE', false],
    ['accessDenied', 'DESTINATION_PERMISSION', false],
  ])('job failure %s is %s, retryable=%s', async (reason, code, retryable) => {
    const { dest } = destination();
    double.failJob = () => ({ reason, message: `simulated ${reason}` });
    const error = await failure(commitBatch(dest, request(await stager.stage([col('id', 'int64')], `(1)`))));
    expect({ code: error.code, retryable: error.retryable }).toEqual({ code, retryable });
    expect(error.message).toContain(`${reason}: simulated ${reason}`);
    expect(classifyReason(reason)).toEqual({ code, retryable });
  });

  test('incremental adds a new column with ALLOW_FIELD_ADDITION; strict refuses it; a changed type names both types', async () => {
    const { dest, dataset } = destination();
    const v1 = [col('id', 'int64'), col('amount', { kind: 'decimal', precision: 10, scale: 2 })];
    await commitBatch(dest, request(await stager.stage(v1, `(1, 1.50)`), { sequence: 1 }));
    const v2 = [...v1, col('note', 'text')];
    expect(await dest.planSchema(v2, 'add_columns')).toEqual([
      { column: 'note', change: 'add', detail: 'STRING' },
    ]);
    const strict = await failure(
      commitBatch(
        dest,
        request(await stager.stage(v2, `(2, 2.00, 'n')`), { sequence: 2, schemaEvolution: 'strict' }),
      ),
    );
    expect(strict.code).toBe('SCHEMA_MISMATCH');
    await commitBatch(dest, request(await stager.stage(v2, `(2, 2.00, 'n')`), { sequence: 2 }));
    expect(
      double.jobs.get(`etld_orders_${dataset}_orders_2_commit`)?.request.configuration.load
        ?.schemaUpdateOptions,
    ).toEqual(['ALLOW_FIELD_ADDITION']);
    expect(await double.storage.textRows(dataset, 'orders', 'id')).toEqual([
      { id: '1', amount: '1.50', note: null },
      { id: '2', amount: '2.00', note: 'n' },
    ]);
    const changed = await failure(
      dest.planSchema(
        [col('id', 'text'), col('amount', { kind: 'decimal', precision: 10, scale: 2 }), col('note', 'text')],
        'add_columns',
      ),
    );
    expect(changed.code).toBe('SCHEMA_MISMATCH');
    expect(changed.message).toContain('column "id" is INT64 in etld-test.');
    expect(changed.message).toContain('incoming rows have text (STRING)');
    const narrower = await failure(
      dest.planSchema(
        [
          col('id', 'int64'),
          col('amount', { kind: 'decimal', precision: 12, scale: 4 }),
          col('note', 'text'),
        ],
        'add_columns',
      ),
    );
    expect(narrower.message).toContain('NUMERIC(10,2)');
  });

  test('several files load into a staging table, then one job changes the target; the staging table is dropped', async () => {
    const { dest, dataset } = destination({ maxFileBytes: 4096 });
    const columns = [col('id', 'int64'), col('payload', 'text')];
    await commitBatch(
      dest,
      request(await stager.stage(columns, `SELECT range, 'old' FROM range(10)`), {
        mode: 'full',
        sequence: 1,
      }),
    );
    const batch = await stager.stage(columns, `SELECT range, repeat('p', 40) FROM range(8000)`);
    const result = await commitBatch(dest, request(batch, { mode: 'full', sequence: 2 }));
    expect(Number(result.details.files)).toBeGreaterThan(2);
    expect(result.details.jobId).toBe(`etld_orders_${dataset}_orders_2_commit`);
    const commitJob = double.jobs.get(`etld_orders_${dataset}_orders_2_commit`)?.request.configuration.query;
    expect(commitJob).toMatchObject({
      writeDisposition: 'WRITE_TRUNCATE',
      destinationTable: { datasetId: dataset, tableId: 'orders' },
    });
    expect((await double.storage.textRows(dataset, 'orders', 'id')).length).toBe(8000);
    expect([...double.storage.tables.keys()].filter((k) => k.startsWith(`${dataset}.`)).sort()).toEqual([
      `${dataset}._etld_commits`,
      `${dataset}.orders`,
    ]);
  });

  test('a staging load failing midway leaves the target as it was and commits nothing', async () => {
    const { dest, dataset } = destination({ maxFileBytes: 4096 });
    const columns = [col('id', 'int64'), col('payload', 'text')];
    await commitBatch(
      dest,
      request(await stager.stage(columns, `SELECT range, 'old' FROM range(10)`), {
        mode: 'incremental',
        sequence: 1,
      }),
    );
    double.failJob = (job) =>
      /_b2$/.test(job.id) ? { reason: 'backendError', message: 'simulated outage in batch 3' } : undefined;
    const batch = await stager.stage(columns, `SELECT range + 100, repeat('p', 40) FROM range(8000)`);
    const error = await failure(commitBatch(dest, request(batch, { sequence: 2 })));
    expect(error.retryable).toBe(true);
    expect(error.message).toContain('staging load 3/');
    expect((await double.storage.textRows(dataset, 'orders', 'id')).length).toBe(10);
    expect([...double.storage.tables.keys()].some((k) => k.includes('__etld_stg_'))).toBe(false);
    expect((await dest.committedSequence('orders'))?.sequence).toBe(1);
  });

  test('merge stages, de-duplicates by cursor then staging order, and upserts by key', async () => {
    const { dest, dataset } = destination();
    const columns = [col('id', 'int64'), col('v', 'text'), col('updated', 'timestamptz')];
    const base = { mode: 'merge' as const, key: ['id'], cursor: 'updated' };
    await commitBatch(
      dest,
      request(
        await stager.stage(
          columns,
          `(1, 'one', TIMESTAMPTZ '2024-01-01 00:00:00+00'), (2, 'two', TIMESTAMPTZ '2024-01-01 00:00:00+00')`,
        ),
        { ...base, sequence: 1 },
      ),
    );
    await commitBatch(
      dest,
      request(
        await stager.stage(
          columns,
          `(2, 'newest', TIMESTAMPTZ '2024-03-01 00:00:00+00'), (2, 'older', TIMESTAMPTZ '2024-02-01 00:00:00+00'), (3, 'three', NULL), (3, 'three-later', NULL)`,
        ),
        { ...base, sequence: 2 },
      ),
    );
    expect((await double.storage.textRows(dataset, 'orders', 'id')).map((r) => [r.id, r.v])).toEqual([
      ['1', 'one'],
      ['2', 'newest'],
      ['3', 'three-later'],
    ]);
    expect(
      double.jobs.get(`etld_orders_${dataset}_orders_2_commit`)?.request.configuration.query?.query,
    ).toMatch(/^MERGE `etld-test\.ds\d+\.orders` T/);
    expect([...double.storage.tables.keys()].some((k) => k.includes('__etld_stg_'))).toBe(false);
  });

  test('parquet is used when every column allows it, NDJSON otherwise', async () => {
    const { dest, dataset } = destination({ format: 'parquet' });
    const columns = [
      col('id', 'int64'),
      col('amount', { kind: 'decimal', precision: 12, scale: 3 }),
      col('at', 'timestamptz'),
    ];
    const result = await commitBatch(
      dest,
      request(await stager.stage(columns, `(1, 1.234, TIMESTAMPTZ '2024-05-05 05:05:05.5+00')`)),
    );
    expect(result.details.format).toBe('parquet');
    expect(
      double.jobs.get(`etld_orders_${dataset}_orders_1_commit`)?.request.configuration.load,
    ).toMatchObject({ sourceFormat: 'PARQUET', decimalTargetTypes: ['NUMERIC', 'BIGNUMERIC'] });
    expect(await double.storage.textRows(dataset, 'orders', 'id')).toEqual([
      { id: '1', amount: '1.234', at: '2024-05-05 05:05:05.5+00' },
    ]);
    const withJson = await commitBatch(
      dest,
      request(await stager.stage([...columns, col('doc', 'json')], `(2, 2.5, NULL, '{"k": true}')`), {
        sequence: 2,
        mode: 'full',
      }),
    );
    expect(withJson.details.format).toBe('ndjson');
    expect(await double.storage.textRows(dataset, 'orders', 'id')).toEqual([
      { id: '2', amount: '2.500', at: null, doc: '{"k":true}' },
    ]);
  });

  test('a commit job done but unrecorded (crash before _etld_commits) still counts as committed', async () => {
    const { dest, dataset } = destination();
    const columns = [col('id', 'int64')];
    await commitBatch(dest, request(await stager.stage(columns, `(1)`), { sequence: 1 }));
    double.failJob = (job) =>
      job.id.startsWith(`etld_orders_${dataset}_orders_2_record`)
        ? { reason: 'backendError', message: 'lost' }
        : undefined;
    await failure(commitBatch(dest, request(await stager.stage(columns, `(2)`), { sequence: 2 })));
    double.failJob = undefined;
    expect((await dest.committedSequence('orders'))?.sequence).toBe(2);
    const retry = await commitBatch(dest, request(await stager.stage(columns, `(2)`), { sequence: 2 }));
    expect(retry.alreadyCommitted).toBe(true);
  });

  test('the double refuses request bodies that are not in the REST reference', async () => {
    const post = async (body: object): Promise<{ status: number; text: string }> => {
      const res = await fetch(`${double.endpoint}/bigquery/v2/projects/${double.project}/jobs`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
      return { status: res.status, text: await res.text() };
    };
    const ref = { projectId: double.project, jobId: 'strict_1' };
    const unknown = await post({
      jobReference: ref,
      configuration: { query: { query: 'SELECT 1', useLegacySql: false, location: 'US' } },
    });
    expect(unknown.status).toBe(400);
    expect(unknown.text).toContain('configuration.query');
    const legacy = await post({ jobReference: ref, configuration: { query: { query: 'SELECT 1' } } });
    expect(legacy.status).toBe(400);
    const badUpdate = await post({
      jobReference: ref,
      configuration: {
        query: {
          query: 'SELECT 1',
          useLegacySql: false,
          writeDisposition: 'WRITE_TRUNCATE',
          schemaUpdateOptions: ['ALLOW_FIELD_ADDITION'],
          destinationTable: { projectId: double.project, datasetId: 'd', tableId: 't' },
        },
      },
    });
    expect(badUpdate.text).toContain('Schema update options should only be specified with WRITE_APPEND');
    expect(double.jobs.has('strict_1')).toBe(false);
  });
});
