/**
 * Run events for integrators: a webhook subscribed with `run_events` receives run.started,
 * run.retrying, run.succeeded and run.failed for the runs of a supervisor (scripted engine, fake
 * clock), in order, signed, with rows, durations and error codes.
 */
import { createHmac } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { daemonSettingsSchema } from '../../shared/config/daemon-schema.js';
import { buildAlertChannels } from '../../daemon/alerts/alert-channels.js';
import { RunEventPublisher } from '../../daemon/alerts/run-events.js';
import { FanoutLogger } from '../../daemon/logging/logger.js';
import { fail, harness, pipeline, succeed } from '../scheduler/harness.js';
import { startWebhookReceiver } from './http-receiver.js';

const cleanups: (() => void | Promise<void>)[] = [];
afterEach(async () => {
  for (const step of cleanups.splice(0).reverse()) await step();
});
const retries = { max_retries: 1, retry_delay: '5s', max_retry_delay: '1m', retry_timeout: '1h' };

describe('run events on a webhook', () => {
  it('sends each run state change of the routed pipelines, in order, signed, with rows, durations and error codes', async () => {
    const hook = await startWebhookReceiver();
    cleanups.push(() => hook.close());
    const h = harness('2026-05-21T10:00:00Z');
    const settings = daemonSettingsSchema.parse({
      alerts: {
        channels: [
          {
            name: 'platform',
            type: 'webhook',
            url_env: 'PLATFORM_URL',
            secret_env: 'PLATFORM_SECRET',
            default: false,
            alerts: false,
            run_events: ['run.started', 'run.succeeded', 'run.failed', 'run.retrying'],
          },
        ],
      },
    });
    const built = buildAlertChannels(
      settings.alerts.channels,
      { env: { PLATFORM_URL: hook.url, PLATFORM_SECRET: 's3cr3t' } },
      { host: 'etl-host-1', version: '0.2.0' },
      () => h.clock.now(),
    );
    const outcomes: string[] = [];
    const publisher = new RunEventPublisher({
      webhooks: built.webhooks,
      store: h.store,
      host: 'etl-host-1',
      logger: new FanoutLogger([]),
      channelsFor: (p) => (p === 'orders' ? ['platform'] : []),
      retry: { attempts: 3, delayMs: 10, maxDelayMs: 50 },
      onOutcome: (channel, event, outcome) => outcomes.push(`${channel} ${event} ${outcome}`),
    });
    publisher.start(h.events);
    cleanups.push(() => publisher.close());
    // The webhook takes run events only: alerts do not go to it.
    expect(built.alertChannels[0]!.takesAlerts).toBe(false);

    h.supervisor.setPipelines(
      [pipeline('orders', { error_handling: retries }), pipeline('billing', { error_handling: retries })],
      [],
    );
    h.supervisor.start();
    hook.answers = [500]; // the first delivery fails once and is retried in place
    h.engine.script(fail('SOURCE_CONNECTION', 'connection refused'), succeed(40));
    h.supervisor.trigger('orders', 'manual');
    await h.clock.advance(10_000);
    h.engine.script(fail('SOURCE_QUERY', 'relation "orders" does not exist'));
    h.supervisor.trigger('orders', 'manual');
    h.supervisor.trigger('billing', 'manual'); // not routed to this webhook
    await h.clock.advance(1_000);
    await publisher.flush();

    const bodies = hook.requests.map((r) => JSON.parse(r.body));
    expect(bodies.map((b) => [b.event, b.run.run_id, b.run.attempt])).toEqual([
      ['run.started', 'orders-1', 1],
      ['run.started', 'orders-1', 1],
      ['run.retrying', 'orders-1', 1],
      ['run.started', 'orders-1', 2],
      ['run.succeeded', 'orders-1', 2],
      ['run.started', 'orders-2', 1],
      ['run.failed', 'orders-2', 1],
    ]);
    // The retried delivery carries the same id.
    expect(hook.requests[0]!.headers['x-etld-delivery']).toBe(hook.requests[1]!.headers['x-etld-delivery']);
    for (const request of hook.requests) {
      const timestamp = String(request.headers['x-etld-timestamp']);
      expect(request.headers['x-etld-signature']).toBe(
        `sha256=${createHmac('sha256', 's3cr3t').update(`${timestamp}.${request.body}`).digest('hex')}`,
      );
    }
    const succeeded = bodies[4];
    expect(succeeded).toEqual({
      version: 1,
      event: 'run.succeeded',
      id: 'etl-host-1:run:orders-1-2:succeeded',
      occurred_at: '2026-05-21T10:00:05.000Z',
      host: 'etl-host-1',
      etld_version: '0.2.0',
      run: {
        pipeline: 'orders',
        run_id: 'orders-1',
        attempt: 2,
        attempt_id: 'orders-1-2',
        status: 'succeeded',
        trigger: 'retry',
        run_started_at: '2026-05-21T10:00:00.000Z',
        attempt_started_at: '2026-05-21T10:00:05.000Z',
        finished_at: '2026-05-21T10:00:05.000Z',
        duration_s: 5,
        attempt_duration_s: 0,
        rows_extracted: 40,
        rows_loaded: 40,
        rows_excluded: 0,
        bytes: 400,
        error: null,
      },
    });
    expect(bodies[2].run.error).toEqual({ code: 'SOURCE_CONNECTION', message: 'connection refused' });
    expect(bodies[6].run).toMatchObject({
      status: 'failed',
      error: { code: 'SOURCE_QUERY', message: 'relation "orders" does not exist' },
    });
    expect(bodies.some((b) => b.run.pipeline === 'billing')).toBe(false);
    expect(outcomes.filter((o) => o.endsWith(' sent'))).toHaveLength(6);
  });

  it('a dead receiver never holds a run: the queue is bounded and drops the oldest', async () => {
    const hook = await startWebhookReceiver();
    cleanups.push(() => hook.close());
    hook.answers = Array.from({ length: 50 }, () => 'hang' as const);
    const h = harness('2026-05-21T10:00:00Z');
    const settings = daemonSettingsSchema.parse({
      alerts: {
        channels: [
          { name: 'platform', type: 'webhook', url_env: 'U', run_events: ['run.started', 'run.succeeded'] },
        ],
      },
    });
    const built = buildAlertChannels(
      settings.alerts.channels,
      { env: { U: hook.url } },
      { host: 'h', version: 'v' },
    );
    const outcomes: string[] = [];
    const publisher = new RunEventPublisher({
      webhooks: built.webhooks,
      store: h.store,
      host: 'h',
      logger: new FanoutLogger([]),
      maxQueue: 3,
      onOutcome: (_c, event, outcome) => outcomes.push(`${event} ${outcome}`),
    });
    publisher.start(h.events);
    h.supervisor.setPipelines([pipeline('orders')], []);
    h.supervisor.start();
    for (let i = 0; i < 4; i++) {
      h.supervisor.trigger('orders', 'manual');
      await h.clock.advance(1_000);
    }
    // Every run finished although the receiver answers nothing.
    expect(h.store.listRunAttempts('orders', 10).map((r) => r.at(-1)!.status)).toEqual([
      'succeeded',
      'succeeded',
      'succeeded',
      'succeeded',
    ]);
    // 8 events: one in flight, 3 queued, the 4 oldest queued ones dropped.
    expect(outcomes.filter((o) => o.endsWith('dropped'))).toHaveLength(4);
    await publisher.close();
    expect(outcomes.filter((o) => o.endsWith('dropped'))).toHaveLength(7);
  });
});
