/**
 * Freshness with a fake clock: a pipeline whose last success gets older than `freshness` pages
 * Slack once (a Slack-format receiver on loopback), shows as stale in the summary (`list`,
 * `status`, the console), in `why` and in etlctl's rendering, and sends one recovery when a run
 * succeeds. A restarted daemon neither repeats the page nor forgets the recovery.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { daemonSettingsSchema } from '../../shared/config/daemon-schema.js';
import { pipelineSummarySchema } from '../../shared/protocol.js';
import { buildAlertChannels } from '../../daemon/alerts/alert-channels.js';
import { AlertService } from '../../daemon/alerts/alert-service.js';
import { EventBus } from '../../daemon/events/event-bus.js';
import { FanoutLogger } from '../../daemon/logging/logger.js';
import { FreshnessMonitor } from '../../daemon/observability/freshness.js';
import { Supervisor } from '../../daemon/scheduler/supervisor.js';
import { openStateStore } from '../../daemon/state/sqlite-store.js';
import type { StateStore } from '../../daemon/state/store.js';
import { createStyle } from '../../tui/cli/format.js';
import { renderList, renderStatus } from '../../tui/cli/render.js';
import { stateCell } from '../../tui/console/format/pipeline-cells.js';
import { FakeClock } from '../scheduler/fake-clock.js';
import { fail, pipeline, RecordingAlerts, ScriptedEngine, succeed } from '../scheduler/harness.js';
import { startSlackReceiver, type Receiver } from './http-receiver.js';

const cleanups: (() => void | Promise<void>)[] = [];
afterEach(async () => {
  for (const step of cleanups.splice(0).reverse()) await step();
});

const plain = createStyle(false);

function daemonParts(clock: FakeClock, store: StateStore, slack: Receiver) {
  const logger = new FanoutLogger([]);
  const events = new EventBus();
  const engine = new ScriptedEngine(() => clock.now());
  const settings = daemonSettingsSchema.parse({
    defaults: { freshness: '2h' },
    alerts: { channels: [{ name: 'oncall', type: 'slack', url_env: 'SLACK_URL' }] },
  });
  const alerts = new AlertService({
    smtp: null,
    defaultRecipients: [],
    throttleMs: 30 * 60_000,
    store,
    logger,
    host: 'etl-host-1',
    now: () => clock.now(),
    retry: { attempts: 2, delayMs: 10, maxDelayMs: 10 },
    channels: buildAlertChannels(
      settings.alerts.channels,
      { env: { SLACK_URL: slack.url } },
      { host: 'etl-host-1', version: 't' },
    ).alertChannels,
  });
  cleanups.push(() => alerts.close());
  const late: { freshness?: FreshnessMonitor } = {};
  const supervisor = new Supervisor({
    store,
    engine,
    clock,
    logger,
    events,
    alerts: new RecordingAlerts(),
    defaults: { stallTimeoutMs: 600_000, timezone: 'UTC' },
    freshness: (name) => late.freshness?.of(name) ?? null,
  });
  const freshness = new FreshnessMonitor({
    clock,
    store,
    alerts,
    logger,
    ...(settings.defaults.freshness !== undefined ? { defaultMs: settings.defaults.freshness } : {}),
    nextRunAt: (name) => supervisor.summaries().find((p) => p.name === name)?.next_run_at ?? null,
  });
  late.freshness = freshness;
  cleanups.push(() => freshness.stop());
  const pipelines = [pipeline('orders', { schedule: '0 * * * *' }), pipeline('audit', { freshness: 'off' })];
  supervisor.setPipelines(pipelines, []);
  freshness.setPipelines(pipelines);
  supervisor.start();
  freshness.start(events);
  return { supervisor, engine, freshness, alerts };
}

describe('freshness', () => {
  it('pages Slack once when the last success is older than freshness, shows it everywhere, and once more on recovery', async () => {
    const slack = await startSlackReceiver();
    cleanups.push(() => slack.close());
    const clock = new FakeClock('2026-05-21T10:30:00Z');
    const store = openStateStore(':memory:', () => clock.now());
    cleanups.push(() => store.close());
    const d = daemonParts(clock, store, slack);

    // 11:00 succeeds; every later hourly run fails.
    d.engine.script(succeed(10)).otherwise(fail('SOURCE_QUERY', 'permission denied for table orders'));
    await clock.advanceTo('2026-05-21T12:59:59Z');
    await d.alerts.flush();
    expect(slack.requests).toHaveLength(0);
    const fresh = d.supervisor.summaries().find((p) => p.name === 'orders')!;
    expect(fresh.freshness).toEqual({
      threshold_s: 7200,
      last_success_at: '2026-05-21T11:00:00.000Z',
      stale: false,
      stale_since: null,
    });
    expect(d.supervisor.summaries().find((p) => p.name === 'audit')!.freshness).toBeNull();

    // 13:00: two hours after the last success.
    await clock.advanceTo('2026-05-21T13:00:01Z');
    await d.alerts.flush();
    expect(slack.requests).toHaveLength(1);
    const page = JSON.parse(slack.requests[0]!.body);
    expect(page.text).toBe('[etld] orders STALE: no successful run for more than 2h');
    const text: string = page.blocks[1].text.text;
    for (const line of [
      'Pipeline orders is STALE: its last successful run finished 2h ago, longer than its freshness of 2h.',
      'Last success: 2026-05-21T11:00:00.000Z',
      'Stale since:  2026-05-21T13:00:00.000Z',
      'Last run:     orders-3 failed (SOURCE_QUERY) at 2026-05-21T13:00:00.000Z',
      'Next run:     2026-05-21T14:00:00.000Z',
      'journalctl -u etld PIPELINE=orders --since "2026-05-21 13:00:00 UTC"',
    ])
      expect(text).toContain(line);

    const summary = pipelineSummarySchema.parse(d.supervisor.summaries().find((p) => p.name === 'orders'));
    expect(summary.freshness).toMatchObject({ stale: true, stale_since: '2026-05-21T13:00:00.000Z' });
    expect(d.supervisor.why('orders').lines).toContain(
      'STALE since 2026-05-21T13:00:00.000Z: last success 2h1s ago (2026-05-21T11:00:00.000Z), older than freshness 2h',
    );
    const now = clock.now();
    expect(renderList([summary], plain, now)).toMatch(/orders\s+failed, stale/);
    expect(
      renderStatus(
        {
          ...summary,
          current_run: null,
          config: null,
          why: [],
          watermarks: [],
          stats: {
            runs_24h: 0,
            failures_24h: 0,
            success_rate_24h: null,
            runs_7d: 0,
            failures_7d: 0,
            success_rate_7d: null,
            mean_duration_s: null,
            last_error: null,
            last_success_at: null,
          },
        },
        plain,
        now,
      ),
    ).toMatch(/freshness\s+STALE since 2026-05-21 13:00Z \(1s ago\): no successful run for more than 2h/);
    expect(stateCell({ ...summary, state: 'idle' })).toEqual({ text: 'stale', color: 'red' });

    // Still stale for hours: no second page.
    await clock.advanceTo('2026-05-21T17:30:00Z');
    await d.alerts.flush();
    expect(slack.requests).toHaveLength(1);

    // A daemon restart while stale: the episode is read back, no page again.
    d.freshness.stop();
    const restarted = daemonParts(clock, store, slack);
    await clock.advance(60_000);
    await restarted.alerts.flush();
    expect(slack.requests).toHaveLength(1);

    // The next run succeeds: one recovery message.
    restarted.engine.otherwise(succeed(3));
    await clock.advanceTo('2026-05-21T18:00:01Z');
    await restarted.alerts.flush();
    expect(slack.requests).toHaveLength(2);
    const recovery = JSON.parse(slack.requests[1]!.body);
    expect(recovery.text).toBe('[etld] orders FRESH again (stale since 2026-05-21T13:00:00.000Z)');
    const lastSuccess = store.lastSuccess('orders')!;
    expect(recovery.blocks[1].text.text).toContain(
      `run orders-${lastSuccess.sequence} succeeded at 2026-05-21T18:00:00.000Z`,
    );
    expect(restarted.supervisor.summaries().find((p) => p.name === 'orders')!.freshness).toMatchObject({
      stale: false,
      last_success_at: '2026-05-21T18:00:00.000Z',
    });
    expect(restarted.supervisor.why('orders').lines.at(-1)).toMatch(/^fresh: last success 1s ago/);
  });

  it('a pipeline that never succeeded is stale freshness after the daemon first saw it; a paused one is not paged', async () => {
    const slack = await startSlackReceiver();
    cleanups.push(() => slack.close());
    const clock = new FakeClock('2026-05-21T10:00:00Z');
    const store = openStateStore(':memory:', () => clock.now());
    cleanups.push(() => store.close());
    store.setPaused('orders', true);
    const d = daemonParts(clock, store, slack);
    await clock.advanceTo('2026-05-21T12:30:00Z');
    await d.alerts.flush();
    expect(d.supervisor.summaries().find((p) => p.name === 'orders')!.freshness).toMatchObject({
      stale: true,
      last_success_at: null,
      stale_since: '2026-05-21T12:00:00.000Z',
    });
    expect(slack.requests).toHaveLength(0);
    d.supervisor.resume('orders');
    await clock.advance(61_000);
    await d.alerts.flush();
    expect(slack.requests.map((r) => JSON.parse(r.body).text)).toEqual([
      '[etld] orders STALE: no successful run for more than 2h',
    ]);
    expect(JSON.parse(slack.requests[0]!.body).blocks[1].text.text).toContain('it has never succeeded');
  });
});
