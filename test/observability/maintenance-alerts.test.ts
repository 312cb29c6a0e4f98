/**
 * A Delta table whose checkpoints keep failing, end to end in one process: the real supervisor
 * runs a PostgreSQL → Delta pipeline through the real run engine, the table's store refuses every
 * checkpoint (a read-only checkpoint target), and the real AlertService delivers to a real SMTP
 * server and a webhook receiver on loopback. Each failed checkpoint is an error of its run, which
 * still succeeds with its commit; the third failure in a row (versions 10, 20, 30) is alerted as
 * `maintenance`, the first two are not.
 */
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { AlertService } from '../../daemon/alerts/alert-service.js';
import { buildAlertChannels } from '../../daemon/alerts/alert-channels.js';
import { DeltaDestination } from '../../daemon/destinations/delta/delta-destination.js';
import { EventBus } from '../../daemon/events/event-bus.js';
import { FanoutLogger, type LogRecord } from '../../daemon/logging/logger.js';
import { SystemClock } from '../../daemon/scheduler/clock.js';
import { Supervisor } from '../../daemon/scheduler/supervisor.js';
import { daemonSettingsSchema } from '../../shared/config/daemon-schema.js';
import { createHarness, pgConnection } from '../engine/engine-harness.js';
import { RemoteLikeStore } from '../delta/remote-like-store.js';
import { startPostgres, type PostgresServer } from '../helpers/postgres-server.js';
import { waitFor } from '../helpers/wait.js';
import { startSmtpReceiver } from '../ops/smtp-receiver.js';
import { startWebhookReceiver } from './http-receiver.js';

let pg: PostgresServer;
const cleanups: (() => void | Promise<void>)[] = [];

beforeAll(async () => {
  pg = await startPostgres();
});
afterAll(async () => {
  await pg.destroy();
});
afterEach(async () => {
  for (const step of cleanups.splice(0).reverse()) await step();
});

describe('maintenance alerts', () => {
  it('a Delta table whose checkpoints fail three times in a row is alerted; its runs succeed with an error each', async () => {
    await pg.createDatabase('upkeep');
    await pg.query(
      `CREATE TABLE orders (id bigint PRIMARY KEY, updated_at timestamptz NOT NULL);
       INSERT INTO orders VALUES (1, '2024-01-01 00:00:01+00');`,
      [],
      'upkeep',
    );
    const h = createHarness({
      createDestination: (_config, context) =>
        Promise.resolve(new DeltaDestination({ store, logger: context.logger })),
    });
    cleanups.push(() => h.destroy());
    const store = new RemoteLikeStore(join(h.lakeDir, 'orders'));
    store.refuse = (key) => key.endsWith('.checkpoint.parquet');

    const smtp = await startSmtpReceiver();
    const hook = await startWebhookReceiver();
    cleanups.push(
      () => smtp.close(),
      () => hook.close(),
    );
    const settings = daemonSettingsSchema.parse({
      alerts: { channels: [{ name: 'pager', type: 'webhook', url_env: 'HOOK_URL' }] },
    });
    const channels = buildAlertChannels(
      settings.alerts.channels,
      { env: { HOOK_URL: hook.url } },
      { host: 'etl-host-1', version: '0.2.0' },
      () => new Date(),
    );
    const records: LogRecord[] = [];
    const logger = new FanoutLogger([{ write: (r) => records.push(r) }]);
    const alerts = new AlertService({
      smtp: {
        host: '127.0.0.1',
        port: smtp.port,
        tls: false,
        starttls: false,
        from: 'etld <etld@test.local>',
        reject_unauthorized: true,
      },
      defaultRecipients: ['oncall@test.local'],
      throttleMs: 30 * 60_000,
      store: h.store,
      logger,
      host: 'etl-host-1',
      retry: { attempts: 2, delayMs: 10, maxDelayMs: 20 },
      channels: channels.alertChannels,
    });
    cleanups.push(() => alerts.close());
    const supervisor = new Supervisor({
      store: h.store,
      engine: h.engine,
      clock: new SystemClock(),
      logger,
      events: new EventBus(),
      alerts,
      defaults: { stallTimeoutMs: 600_000, timezone: 'UTC' },
    });
    cleanups.push(() => supervisor.drain(5_000));
    const p = h.pipeline({
      name: 'orders',
      source: { type: 'postgres', connection: pgConnection(pg, 'upkeep'), table: 'orders', key: ['id'] },
      load: { mode: 'incremental', cursor: 'updated_at' },
      destination: { type: 'delta', path: 'orders' },
    });
    supervisor.setPipelines([p], []);
    supervisor.start();

    const runOnce = async (sequence: number): Promise<void> => {
      if (sequence > 1) {
        await pg.query(
          `INSERT INTO orders VALUES ($1::bigint, '2024-01-01'::timestamptz + $1::int * interval '1 second')`,
          [sequence],
          'upkeep',
        );
      }
      supervisor.trigger('orders', 'manual');
      await waitFor(
        () => (h.store.getRun(`orders-${sequence}-1`)?.status === 'succeeded' ? true : undefined),
        {
          what: `run ${sequence} to succeed`,
          timeoutMs: 60_000,
        },
      );
      await alerts.flush();
    };
    const checkpointErrors = (): string[] =>
      records.filter((r) => r.level === 'error' && r.message.includes('checkpoint')).map((r) => r.message);

    // Versions 0..20 (runs 1..21): two checkpoints fail, each an error of its run, no alert yet.
    for (let sequence = 1; sequence <= 21; sequence++) await runOnce(sequence);
    expect(checkpointErrors()).toHaveLength(2);
    expect(checkpointErrors()[0]).toMatch(
      /^checkpoint 10 of Delta table s3-like:.*orders failed \(1 due checkpoint in a row missing\); the commit stands: cannot write .*00000000000000000010\.checkpoint\.parquet: read-only$/,
    );
    expect(checkpointErrors()[1]).toMatch(/checkpoint 20 .* \(2 due checkpoints in a row missing\)/);
    expect(smtp.mails).toEqual([]);
    expect(hook.requests).toEqual([]);

    // Version 30: the third failure in a row is alerted, by mail and webhook; the run succeeded.
    for (let sequence = 22; sequence <= 31; sequence++) await runOnce(sequence);
    expect(checkpointErrors()).toHaveLength(3);
    expect(smtp.mails).toHaveLength(1);
    const mail = smtp.mails[0]!;
    expect(mail.subject).toBe('[etld] orders CHECKPOINT FAILING: 3 in a row (run orders-31)');
    for (const expected of [
      'Pipeline orders committed run orders-31, but the checkpoint of its destination table failed for the 3rd time in a row.',
      'the log is never cleaned up',
      'Failed:   checkpoint, 3 times in a row',
      'read-only',
      '  etlctl run orders-31',
    ])
      expect(mail.text).toContain(expected);
    expect(hook.requests).toHaveLength(1);
    expect(hook.requests[0]!.headers['x-etld-event']).toBe('alert.maintenance');
    expect(JSON.parse(hook.requests[0]!.body).alert).toMatchObject({
      kind: 'maintenance',
      pipeline: 'orders',
      run_id: 'orders-31',
      details: { task: 'checkpoint', consecutive_failures: 3 },
    });
    // Every commit stands: 31 versions, no checkpoint, every row in the table's log.
    const log = await readdir(join(h.lakeDir, 'orders', '_delta_log'));
    expect(log.filter((n) => n.endsWith('.json'))).toHaveLength(31);
    expect(log.filter((n) => n.includes('checkpoint'))).toEqual([]);
    expect(h.store.getRun('orders-31-1')).toMatchObject({ status: 'succeeded', rowsLoaded: 1 });
  }, 240_000);
});
