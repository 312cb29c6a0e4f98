/**
 * `etlctl test` on a BigQuery destination, with what BigQuery offers for a check that touches no
 * data: datasets.get and tables.get (do they exist, the schema), tables.testIamPermissions on the
 * target table and on `_etld_commits` (the permissions a commit uses there), and a dry-run query job
 * for bigquery.jobs.create (every load and commit is a job). A missing dataset or table is created
 * by the first run: the permissions that needs (bigquery.datasets.create, bigquery.tables.create)
 * live on the project and the dataset, which have no testIamPermissions in the BigQuery API, so
 * the check says it could not tell.
 */
import { randomUUID } from 'node:crypto';
import { CheckRecorder, listWords, type AccessCheck, type AccessCheckRequest } from '../access-check.js';
import type { BigQueryApi } from './bigquery-api.js';
import { toBigQueryError } from './bigquery-errors.js';
import { COMMITS_TABLE } from './bigquery-sql.js';

export interface BigQueryAccessTarget {
  readonly api: BigQueryApi;
  readonly project: string;
  readonly dataset: string;
  readonly table: string;
}

/** Table permissions a commit into the target uses, and whether a run in `mode` cannot do without them. */
function tablePermissions(
  mode: AccessCheckRequest['mode'],
): { name: string; needed: boolean; why: string }[] {
  return [
    { name: 'bigquery.tables.updateData', needed: true, why: 'every load writes its rows' },
    {
      name: 'bigquery.tables.getData',
      needed: mode === 'merge',
      why:
        mode === 'merge'
          ? 'MERGE reads the rows the table holds'
          : 'a backfill compares the batch with the rows',
    },
    { name: 'bigquery.tables.update', needed: false, why: 'adding the columns the source gains' },
  ];
}

const COMMITS_PERMISSIONS = ['bigquery.tables.getData', 'bigquery.tables.updateData'];

export async function checkBigQueryAccess(
  target: BigQueryAccessTarget,
  request: AccessCheckRequest,
): Promise<AccessCheck[]> {
  const { api, project, dataset, table } = target;
  const tableName = `${project}.${dataset}.${table}`;
  const recorder = new CheckRecorder({
    signal: request.signal,
    timeoutMs: request.timeoutMs,
    timeoutCode: 'DESTINATION_WRITE',
    failedCode: 'DESTINATION_PERMISSION',
  });
  const datasetFound = await recorder.run<boolean>('destination_connect', async () => {
    const found = await api.datasetExists(dataset).catch((error: unknown) => {
      throw toBigQueryError(error, `datasets.get ${project}.${dataset}`);
    });
    return found
      ? { status: 'ok', detail: `dataset ${project}.${dataset} is reachable`, value: true }
      : {
          status: 'warning',
          code: 'DESTINATION_PERMISSION',
          detail: `dataset ${project}.${dataset} does not exist: the first run creates it, which needs bigquery.datasets.create on project ${project} (not testable without creating it)`,
          value: false,
        };
  });
  if (datasetFound === undefined) {
    for (const check of ['destination_table', 'write_permission', 'job_permission'])
      recorder.skip(check, 'not checked: BigQuery could not be reached');
    return recorder.checks;
  }
  const fields = await recorder.run<number | null>('destination_table', async () => {
    if (!datasetFound)
      return { status: 'ok', detail: `${tableName} does not exist: the first run creates it`, value: null };
    const found = await api.getTable(dataset, table).catch((error: unknown) => {
      throw toBigQueryError(error, `tables.get ${tableName}`);
    });
    return found === undefined
      ? { status: 'ok', detail: `${tableName} does not exist: the first run creates it`, value: null }
      : {
          status: 'ok',
          detail: `${tableName} exists (${found.fields.length} column(s))`,
          value: found.fields.length,
        };
  });
  await recorder.run('write_permission', async () => {
    if (fields === undefined || fields === null)
      return {
        status: 'warning',
        code: 'DESTINATION_PERMISSION',
        detail: `${tableName} does not exist yet: creating it needs bigquery.tables.create on dataset ${project}.${dataset}, which BigQuery offers no test for`,
      };
    const wanted = tablePermissions(request.mode);
    const held = new Set(
      await api
        .testTablePermissions(
          dataset,
          table,
          wanted.map((p) => p.name),
        )
        .catch((error: unknown) => {
          throw toBigQueryError(error, `tables.testIamPermissions on ${tableName}`);
        }),
    );
    const missing = wanted.filter((p) => !held.has(p.name));
    const commitsMissing: string[] = [];
    if ((await api.getTable(dataset, COMMITS_TABLE).catch(() => undefined)) !== undefined) {
      const heldOnCommits = new Set(
        await api
          .testTablePermissions(dataset, COMMITS_TABLE, COMMITS_PERMISSIONS)
          .catch((error: unknown) => {
            throw toBigQueryError(
              error,
              `tables.testIamPermissions on ${project}.${dataset}.${COMMITS_TABLE}`,
            );
          }),
      );
      commitsMissing.push(...COMMITS_PERMISSIONS.filter((p) => !heldOnCommits.has(p)));
    }
    const failing = missing.filter((p) => p.needed);
    const explain = (list: readonly { name: string; why: string }[]): string =>
      list.map((p) => `${p.name} (${p.why})`).join(', ');
    if (failing.length > 0 || commitsMissing.length > 0)
      return {
        status: 'failed',
        code: 'DESTINATION_PERMISSION',
        detail: [
          ...(failing.length > 0 ? [`the caller lacks ${explain(failing)} on ${tableName}`] : []),
          ...(commitsMissing.length > 0
            ? [
                `the caller lacks ${listWords(commitsMissing)} on ${project}.${dataset}.${COMMITS_TABLE} (every commit records its sequence there)`,
              ]
            : []),
        ].join('; '),
      };
    if (missing.length > 0)
      return {
        status: 'warning',
        code: 'DESTINATION_PERMISSION',
        detail: `a ${request.mode} load can write ${tableName}, but the caller lacks ${explain(missing)}`,
      };
    return {
      status: 'ok',
      detail: `the caller holds ${listWords(wanted.map((p) => p.name))} on ${tableName}`,
    };
  });
  await recorder.run('job_permission', async () => {
    await api
      .dryRunQuery(`etld_test_${randomUUID().replaceAll('-', '')}`, 'SELECT 1')
      .catch((error: unknown) => {
        throw toBigQueryError(error, `a dry-run query job in project ${project}`);
      });
    return { status: 'ok', detail: `jobs can be created in project ${project} (a dry-run query job)` };
  });
  return recorder.checks;
}
