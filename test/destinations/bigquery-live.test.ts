/**
 * Against real BigQuery, only when ETLD_TEST_BIGQUERY_PROJECT is set and credentials are available
 * (ETLD_TEST_BIGQUERY_KEY_FILE, or application default credentials). It creates a throwaway
 * dataset (location ETLD_TEST_BIGQUERY_LOCATION, default US) and deletes it afterwards. CI never
 * sets these variables: tests there stay on the loopback double and emulator.
 */
import { randomUUID } from 'node:crypto';
import { BigQuery } from '@google-cloud/bigquery';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { BigQueryDestination } from '../../daemon/destinations/bigquery/bigquery-destination.js';
import type { CommitRequest, StagedBatch } from '../conformance/commit-batch.js';
import { FanoutLogger } from '../../daemon/logging/logger.js';
import { col, createStager, type Stager } from '../conformance/staged-batch.js';
import { commitBatch } from '../conformance/commit-batch.js';

const project = process.env.ETLD_TEST_BIGQUERY_PROJECT;
const keyFile = process.env.ETLD_TEST_BIGQUERY_KEY_FILE;
const location = process.env.ETLD_TEST_BIGQUERY_LOCATION ?? 'US';
const dataset = `etld_test_${randomUUID().replaceAll('-', '').slice(0, 12)}`;

describe.skipIf(project === undefined)(
  'bigquery destination against real BigQuery (ETLD_TEST_BIGQUERY_PROJECT)',
  () => {
    let stager: Stager;
    let dest: BigQueryDestination;
    let client: BigQuery;

    beforeAll(async () => {
      stager = await createStager();
      client = new BigQuery({ projectId: project, keyFilename: keyFile });
      dest = new BigQueryDestination(
        {
          type: 'bigquery',
          project: project ?? '',
          dataset,
          table: 'orders',
          location,
          key_file: keyFile,
          format: 'ndjson',
        },
        { lakeDir: '/nonexistent', logger: new FanoutLogger([]), resolveConnection: () => ({}) },
      );
    });
    afterAll(async () => {
      stager?.close();
      await client
        ?.dataset(dataset)
        .delete({ force: true })
        .catch(() => undefined);
    });

    const request = (batch: StagedBatch, overrides: Partial<CommitRequest>): CommitRequest => ({
      pipeline: 'live',
      runId: `run-${overrides.sequence ?? 1}`,
      sequence: 1,
      mode: 'incremental',
      key: undefined,
      cursor: undefined,
      schemaEvolution: 'add_columns',
      batch,
      signal: new AbortController().signal,
      ...overrides,
    });

    test('full, incremental (exactly once), merge and exact values', async () => {
      const columns = [
        col('id', 'int64'),
        col('amount', { kind: 'decimal', precision: 38, scale: 10 }),
        col('at', 'timestamptz'),
        col('doc', 'json'),
      ];
      await commitBatch(
        dest,
        request(
          await stager.stage(
            columns,
            `(9007199254740993, 1234567890123456789012345678.0123456789, TIMESTAMPTZ '2024-01-02 03:04:05.654321+00', '{"a":1}')`,
          ),
          {
            mode: 'full',
            sequence: 1,
          },
        ),
      );
      const again = await commitBatch(
        dest,
        request(await stager.stage(columns, `(1, 1, NULL, NULL)`), { mode: 'full', sequence: 1 }),
      );
      expect(again.alreadyCommitted).toBe(true);
      await commitBatch(dest, request(await stager.stage(columns, `(2, 2.5, NULL, NULL)`), { sequence: 2 }));
      await commitBatch(
        dest,
        request(await stager.stage(columns, `(2, 3.5, NULL, NULL)`), {
          mode: 'merge',
          key: ['id'],
          sequence: 3,
        }),
      );
      const [rows] = await client.query({
        query: `SELECT CAST(id AS STRING) AS id, CAST(amount AS STRING) AS amount, FORMAT_TIMESTAMP('%F %H:%M:%E6S', at, 'UTC') AS at FROM \`${project}.${dataset}.orders\` ORDER BY id`,
        location,
      });
      expect(rows).toEqual([
        { id: '2', amount: '3.5', at: null },
        {
          id: '9007199254740993',
          amount: '1234567890123456789012345678.0123456789',
          at: '2024-01-02 03:04:05.654321',
        },
      ]);
      expect((await dest.committedSequence('live'))?.sequence).toBe(3);
    });
  },
);
