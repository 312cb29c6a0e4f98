/**
 * The BigQuery destination against goccy/bigquery-emulator, a third-party implementation of the
 * REST API. Its known deviations (listed here) are worked around here, never in the
 * product: a failed load looks DONE on jobs.get (so failed sequences are not retried here),
 * schemaUpdateOptions are ignored (no evolution here: the REST double covers it), and query jobs
 * ignore writeDisposition (multi-file full loads are covered by the double), a reused job id is
 * a 400 "already created" instead of 409 (no test here re-inserts a job id), and NDJSON BYTES are
 * stored as the base64 text itself instead of its decoding (its loader has no base64 step), so
 * the test expects the base64 of that text.
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { BigQueryDestination } from '../../daemon/destinations/bigquery/bigquery-destination.js';
import type { CommitRequest, StagedBatch } from '../conformance/commit-batch.js';
import { FanoutLogger } from '../../daemon/logging/logger.js';
import type { ColumnSchema } from '../../shared/types.js';
import { findEmulatorBinary, startEmulator, type BigQueryEmulator } from './bigquery-emulator.js';
import { col, createStager, type Stager } from '../conformance/staged-batch.js';
import { commitBatch, commitRequest, failure } from '../conformance/commit-batch.js';

let emulator: BigQueryEmulator;
let stager: Stager;
let counter = 0;

beforeAll(async () => {
  emulator = await startEmulator(findEmulatorBinary(process.env));
  stager = await createStager();
});
afterAll(async () => {
  stager?.close();
  await emulator?.stop();
});

function destination(maxFileBytes?: number): { dest: BigQueryDestination; dataset: string } {
  counter += 1;
  const dataset = `emu${counter}`;
  const dest = new BigQueryDestination(
    {
      type: 'bigquery',
      project: emulator.project,
      dataset,
      table: 'orders',
      format: 'ndjson',
      api_endpoint: emulator.endpoint,
    },
    { lakeDir: '/nonexistent', logger: new FanoutLogger([]), resolveConnection: () => ({}) },
    { poll: { pollMs: 5, maxPollMs: 50 }, ...(maxFileBytes === undefined ? {} : { maxFileBytes }) },
  );
  return { dest, dataset };
}

function request(batch: StagedBatch, overrides: Parameters<typeof commitRequest>[1] = {}): CommitRequest {
  return commitRequest(batch, { pipeline: 'emu', ...overrides });
}

/** Per type: the GoogleSQL that renders a loaded value as text, and the DuckDB SQL that renders the staged source value the same way. */
function renderings(c: ColumnSchema): { bq: string; duck: string } {
  const n = `\`${c.name}\``;
  const d = `"${c.name}"`;
  switch (c.type.kind) {
    case 'bytes':
      // The emulator keeps the base64 text as the bytes (see the header), so its TO_BASE64 is the
      // base64 of our base64; against real BigQuery the source side would be plain base64(...).
      return { bq: `TO_BASE64(${n})`, duck: `base64(CAST(base64(${d}) AS BLOB))` };
    case 'timestamptz':
      return {
        bq: `FORMAT_TIMESTAMP('%Y-%m-%d %H:%M:%E6S', ${n}, 'UTC')`,
        duck: `strftime(${d}, '%Y-%m-%d %H:%M:%S.%f')`,
      };
    case 'timestamp':
      return {
        bq: `FORMAT_DATETIME('%Y-%m-%d %H:%M:%E6S', ${n})`,
        duck: `strftime(${d}, '%Y-%m-%d %H:%M:%S.%f')`,
      };
    case 'time':
      return {
        bq: `FORMAT_TIME('%H:%M:%E6S', ${n})`,
        duck: `strftime(DATE '2000-01-01' + ${d}, '%H:%M:%S.%f')`,
      };
    case 'json':
      return { bq: `TO_JSON_STRING(${n})`, duck: `CAST(CAST(${d} AS JSON) AS VARCHAR)` };
    default:
      return { bq: `CAST(${n} AS STRING)`, duck: `CAST(${d} AS VARCHAR)` };
  }
}

/** Text forms that differ only in notation (trailing decimal zeros, float spelling, JSON spacing) compare equal. */
function normalize(value: string | null, c: ColumnSchema): unknown {
  if (value === null) return null;
  switch (c.type.kind) {
    case 'decimal':
      return value.includes('.') ? value.replace(/0+$/, '').replace(/\.$/, '') : value;
    case 'float32':
    case 'float64':
      return /nan/i.test(value) ? 'NaN' : Number(value.replace(/^(-?)inf(inity)?$/i, '$1Infinity'));
    case 'json':
      return JSON.parse(value) as unknown;
    default:
      return value;
  }
}

async function compareWithSource(dataset: string, batch: StagedBatch, orderBy: string): Promise<void> {
  const columns = batch.columns;
  const loaded = await emulator.query(
    `SELECT ${columns.map((c) => renderings(c).bq).join(', ')} FROM \`${emulator.project}.${dataset}.orders\` ORDER BY \`${orderBy}\``,
  );
  const source = await batch.connection.runAndReadAll(
    `SELECT ${columns.map((c) => renderings(c).duck).join(', ')} FROM ${batch.relation} ORDER BY "${orderBy}"`,
  );
  const expected = source
    .getRows()
    .map((r) => r.map((v, i) => normalize(v === null ? null : String(v), columns[i]!)));
  const actual = loaded.map((r) => r.map((v, i) => normalize(v, columns[i]!)));
  expect(actual).toEqual(expected);
}

const TYPES: ColumnSchema[] = [
  col('id', 'int64'),
  col('i32', 'int32'),
  col('f64', 'float64'),
  col('b', 'bool'),
  col('amount', { kind: 'decimal', precision: 18, scale: 4 }),
  col('t', 'text'),
  col('by', 'bytes'),
  col('dt', 'date'),
  col('tm', 'time'),
  col('ts', 'timestamp'),
  col('tz', 'timestamptz'),
  col('j', 'json'),
  col('u', 'uuid'),
];

describe('bigquery destination against goccy/bigquery-emulator', () => {
  test('full loads land row for row and replace the snapshot', async () => {
    const { dest, dataset } = destination();
    const first = await stager.stage(
      TYPES,
      `SELECT range * 9007199254740, range::INTEGER, range / 3.0, range % 2 = 0, (range * 12.3456)::DECIMAL(18,4), 'row ' || range || ' é "q"',
              ('bytes' || range)::BLOB, DATE '2024-01-01' + range::INTEGER, TIME '01:02:03.456789', TIMESTAMP '2001-02-03 04:05:06.789012' + to_seconds(range),
              TIMESTAMPTZ '2024-06-30 23:59:59.123456+00' + to_seconds(range), '{"n": ' || range || ', "a": [1, "x"]}', uuid()::VARCHAR
         FROM range(50)`,
    );
    expect((await commitBatch(dest, request(first, { mode: 'full', sequence: 1 }))).rowsLoaded).toBe(50);
    await compareWithSource(dataset, first, 'id');

    const second = await stager.stage(
      TYPES,
      `(7, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL)`,
    );
    await commitBatch(dest, request(second, { mode: 'full', sequence: 2 }));
    await compareWithSource(dataset, second, 'id');
    expect((await dest.committedSequence('emu'))?.sequence).toBe(2);
  });

  test('incremental appends each sequence exactly once', async () => {
    const { dest, dataset } = destination();
    const columns = [col('id', 'int64'), col('v', 'text')];
    const one = await stager.stage(columns, `(1, 'a'), (2, 'b')`);
    await commitBatch(dest, request(one, { sequence: 1 }));
    expect((await commitBatch(dest, request(one, { sequence: 1, runId: 'again' }))).alreadyCommitted).toBe(
      true,
    );
    await commitBatch(dest, request(await stager.stage(columns, `(3, 'c')`), { sequence: 2 }));
    expect(
      await emulator.query(`SELECT id, v FROM \`${emulator.project}.${dataset}.orders\` ORDER BY id`),
    ).toEqual([
      ['1', 'a'],
      ['2', 'b'],
      ['3', 'c'],
    ]);
    expect((await dest.committedSequence('emu'))?.sequence).toBe(2);
  });

  test('several files go through a staging table into the target', async () => {
    const { dest, dataset } = destination(4096);
    const columns = [col('id', 'int64'), col('payload', 'text')];
    const batch = await stager.stage(columns, `SELECT range, repeat('p', 30) || range FROM range(6000)`);
    const result = await commitBatch(dest, request(batch, { sequence: 1 }));
    expect(Number(result.details.files)).toBeGreaterThan(1);
    await compareWithSource(dataset, batch, 'id');
    const tables = await fetch(
      `${emulator.endpoint}/bigquery/v2/projects/${emulator.project}/datasets/${dataset}/tables`,
    ).then((r) => r.json() as Promise<{ tables?: { tableReference: { tableId: string } }[] }>);
    expect((tables.tables ?? []).map((t) => t.tableReference.tableId).sort()).toEqual([
      '_etld_commits',
      'orders',
    ]);
  });

  test('merge upserts the newest row per key', async () => {
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
          `(2, 'newest', TIMESTAMPTZ '2024-03-01 00:00:00+00'), (2, 'older', TIMESTAMPTZ '2024-02-01 00:00:00+00'), (3, 'three', NULL)`,
        ),
        {
          ...base,
          sequence: 2,
        },
      ),
    );
    expect(
      await emulator.query(`SELECT id, v FROM \`${emulator.project}.${dataset}.orders\` ORDER BY id`),
    ).toEqual([
      ['1', 'one'],
      ['2', 'newest'],
      ['3', 'three'],
    ]);
  });

  test('a load failing midway (a value BigQuery refuses in the last file) leaves the table as it was', async () => {
    const { dest, dataset } = destination(4096);
    const columns = [col('id', 'int64'), col('day', 'date')];
    await commitBatch(dest, request(await stager.stage(columns, `(1, DATE '2024-01-01')`), { sequence: 1 }));
    // Year 10000 is valid in DuckDB and out of BigQuery's DATE range.
    const bad = await stager.stage(
      columns,
      `SELECT range + 10, CASE WHEN range = 5999 THEN DATE '10000-01-01' ELSE DATE '2024-01-02' END FROM range(6000)`,
    );
    const error = await failure(commitBatch(dest, request(bad, { sequence: 2 })));
    expect(error.code).toBe('DESTINATION_WRITE');
    expect(await emulator.query(`SELECT COUNT(*) FROM \`${emulator.project}.${dataset}.orders\``)).toEqual([
      ['1'],
    ]);
    expect((await dest.committedSequence('emu'))?.sequence).toBe(1);
  });
});
