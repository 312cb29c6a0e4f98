/**
 * The audit's BigQuery risk: an attempt whose commit job is still running when the attempt gives
 * up (cancelled, stalled) may finish later. The next attempt of the sequence must commit the
 * watermarks of the attempt whose job it was, not its own plan — else rows between the two
 * high-water marks would never be loaded. Against the strict REST double and a real PostgreSQL.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BigQueryDestination } from '../../daemon/destinations/bigquery/bigquery-destination.js';
import type { DestinationConfig } from '../../shared/config/pipeline-schema.js';
import { startBigQueryDouble, type BigQueryDouble } from '../helpers/bigquery-double/bigquery-double.js';
import { startPostgres, type PostgresServer } from '../helpers/postgres-server.js';
import { waitFor } from '../helpers/process.js';
import { createHarness } from './engine-harness.js';

let pg: PostgresServer;
let double: BigQueryDouble;

beforeAll(async () => {
  pg = await startPostgres();
  await pg.createDatabase('bq');
  await pg.query(
    `CREATE TABLE events (id int PRIMARY KEY, at timestamptz NOT NULL);
     INSERT INTO events SELECT g, timestamptz '2024-01-01 00:00+00' + g * interval '1 hour' FROM generate_series(1, 5) g;`,
    [],
    'bq',
  );
  double = await startBigQueryDouble();
});
afterAll(async () => {
  await double?.stop();
  await pg?.destroy();
});

describe('BigQuery: a commit job that outlives its attempt', () => {
  it('the next attempt waits for the job and commits the watermarks of the attempt that started it', async () => {
    const h = createHarness({
      createDestination: (config: DestinationConfig, context) =>
        Promise.resolve(
          new BigQueryDestination(config as Extract<DestinationConfig, { type: 'bigquery' }>, context, {
            poll: { pollMs: 5, maxPollMs: 20 },
          }),
        ),
    });
    try {
      const p = h.pipeline({
        name: 'late_job',
        source: {
          type: 'postgres',
          connection: { host: pg.host, port: pg.port, user: pg.user, database: 'bq' },
          table: 'events',
          key: ['id'],
        },
        load: { mode: 'incremental', cursor: 'at', open_transactions: 'ignore' },
        destination: {
          type: 'bigquery',
          project: double.project,
          dataset: 'late',
          table: 'events',
          api_endpoint: double.endpoint,
        },
      });
      const sequence = h.store.nextSequence('late_job');
      double.pollsUntilDone = 1_000_000;
      const giveUp = new AbortController();
      const first = h.run(p, { sequence, attempt: 1, signal: giveUp.signal });
      await waitFor(
        () => ([...double.jobs.keys()].some((id) => id.endsWith(`_${sequence}_commit`)) ? true : undefined),
        { what: 'the commit job' },
      );
      giveUp.abort();
      await expect(first).rejects.toMatchObject({ code: 'CANCELLED' });

      // Rows arrive; the retry would plan a higher high-water mark than the job's attempt did.
      await pg.query(
        `INSERT INTO events VALUES (6, '2024-01-02 00:00+00'), (7, '2024-01-03 00:00+00')`,
        [],
        'bq',
      );
      double.pollsUntilDone = 1;
      const second = await h.run(p, { sequence, attempt: 2 });
      expect(second).toMatchObject({ verdict: 'already_committed', watermarkTo: '2024-01-01 05:00:00+00' });
      expect(h.store.getWatermarks('late_job')[0]?.value).toBe('2024-01-01 05:00:00+00');

      expect(await h.run(p)).toMatchObject({ rowsLoaded: 2, verdict: 'match' });
      const ids = (await double.storage.textRows('late', 'events', 'id')).map((r) => r.id);
      expect(ids).toEqual(['1', '2', '3', '4', '5', '6', '7']);
    } finally {
      h.destroy();
    }
  });
});
