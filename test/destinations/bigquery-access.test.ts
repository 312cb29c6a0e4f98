/**
 * The BigQuery double's no-data permission endpoints, which `etlctl test` uses, are as strict as
 * its others: tables.testIamPermissions takes only table-level permission names (no wildcards,
 * no unknown fields) on a table that exists and leaves out denied ones; a dry-run job is answered
 * and never stored (its id may be reused), and is refused without bigquery.jobs.create.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startBigQueryDouble, type BigQueryDouble } from '../helpers/bigquery-double/bigquery-double.js';

let double: BigQueryDouble;

beforeAll(async () => {
  double = await startBigQueryDouble();
  await double.storage.createDataset('ds');
  await double.storage.createTable('ds', 't', [{ name: 'id', type: 'INTEGER', mode: 'NULLABLE' }]);
});
afterAll(async () => {
  await double?.stop();
});

async function post(path: string, body: unknown): Promise<{ status: number; body: Record<string, unknown> }> {
  const response = await fetch(`${double.endpoint}/bigquery/v2/projects/${double.project}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

const iam = (table: string): string => `/datasets/ds/tables/${table}:testIamPermissions`;

describe('BigQuery double: tables.testIamPermissions and dry-run jobs', () => {
  it('answers the permissions held, leaves out denied ones, and omits the list when none is held', async () => {
    const asked = ['bigquery.tables.getData', 'bigquery.tables.updateData'];
    expect(await post(iam('t'), { permissions: asked })).toEqual({
      status: 200,
      body: { permissions: asked },
    });
    double.deniedPermissions.add('bigquery.tables.updateData');
    try {
      expect((await post(iam('t'), { permissions: asked })).body).toEqual({
        permissions: ['bigquery.tables.getData'],
      });
      expect((await post(iam('t'), { permissions: ['bigquery.tables.updateData'] })).body).toEqual({});
    } finally {
      double.deniedPermissions.clear();
    }
  });

  it('refuses wildcards, non-table permissions, unknown fields and an empty list; 404 for a missing table', async () => {
    for (const body of [
      { permissions: ['bigquery.tables.*'] },
      { permissions: ['bigquery.jobs.create'] },
      { permissions: [] },
      { permissions: ['bigquery.tables.get'], extra: true },
    ]) {
      const answer = await post(iam('t'), body);
      expect(answer.status, JSON.stringify(body)).toBe(400);
      expect(JSON.stringify(answer.body)).toContain('invalid');
    }
    expect((await post(iam('missing'), { permissions: ['bigquery.tables.get'] })).status).toBe(404);
  });

  it('a dry-run query job is answered DONE and not stored; without bigquery.jobs.create it is refused 403', async () => {
    const job = {
      jobReference: { projectId: double.project, jobId: 'etld_test_1' },
      configuration: { dryRun: true, query: { query: 'SELECT 1', useLegacySql: false } },
    };
    const first = await post('/jobs', job);
    expect(first.status).toBe(200);
    expect(first.body).toMatchObject({ status: { state: 'DONE' }, statistics: { totalBytesProcessed: '0' } });
    expect((await post('/jobs', job)).status).toBe(200);
    expect(double.jobs.size).toBe(0);
    expect(
      (await post('/jobs', { ...job, configuration: { ...job.configuration, dryRun: 'yes' } })).status,
    ).toBe(400);
    double.deniedPermissions.add('bigquery.jobs.create');
    try {
      const refused = await post('/jobs', job);
      expect(refused.status).toBe(403);
      expect(JSON.stringify(refused.body)).toContain('accessDenied');
    } finally {
      double.deniedPermissions.clear();
    }
  });
});
