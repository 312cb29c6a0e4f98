/**
 * Webhook and Slack alert channels against receivers on loopback: the versioned webhook body and
 * its HMAC signature (verified here as a receiver would), the Slack message (checked against
 * Slack's limits, with the mail's content), per-pipeline routing, the shared throttle, retries,
 * permanent refusals, and that secrets (URLs, HMAC keys) never reach the store or the logs.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { daemonSettingsSchema } from '../../shared/config/daemon-schema.js';
import { buildAlertChannels } from '../../daemon/alerts/alert-channels.js';
import { failureMail, type FailureAlert } from '../../daemon/alerts/alert-messages.js';
import { AlertService, type AlertServiceOptions } from '../../daemon/alerts/alert-service.js';
import { FanoutLogger, type LogRecord } from '../../daemon/logging/logger.js';
import { openStateStore } from '../../daemon/state/sqlite-store.js';
import type { StateStore } from '../../daemon/state/store.js';
import { waitFor } from '../helpers/process.js';
import { startSlackReceiver, startWebhookReceiver, type Receiver } from './http-receiver.js';

const T0 = Date.parse('2026-05-21T10:00:00.000Z');
const SECRET = 'hmac-key-for-tests-4b1d';
const cleanups: (() => void | Promise<void>)[] = [];
let store: StateStore;
let logs: LogRecord[];
let now: number;
afterEach(async () => {
  for (const step of cleanups.splice(0).reverse()) await step();
});

function setup(): void {
  now = T0;
  store = openStateStore(':memory:', () => new Date(now));
  cleanups.push(() => store.close());
  logs = [];
}

async function receivers(): Promise<{ hook: Receiver; slack: Receiver }> {
  const hook = await startWebhookReceiver();
  const slack = await startSlackReceiver();
  cleanups.push(
    () => hook.close(),
    () => slack.close(),
  );
  return { hook, slack };
}

function channels(env: Record<string, string>, channelsYaml: unknown[]) {
  const settings = daemonSettingsSchema.parse({ alerts: { channels: channelsYaml } });
  return buildAlertChannels(
    settings.alerts.channels,
    { env },
    { host: 'etl-host-1', version: '0.2.0' },
    () => new Date(now),
  );
}

function service(extra: Partial<AlertServiceOptions>): { alerts: AlertService; outcomes: string[] } {
  const outcomes: string[] = [];
  const alerts = new AlertService({
    smtp: null,
    defaultRecipients: [],
    throttleMs: 30 * 60_000,
    store,
    logger: new FanoutLogger([{ write: (r) => logs.push(r) }]),
    host: 'etl-host-1',
    now: () => new Date(now),
    retry: { attempts: 3, delayMs: 10, maxDelayMs: 50 },
    onOutcome: (kind, channel, status) => outcomes.push(`${kind}/${channel}/${status}`),
    ...extra,
  });
  cleanups.push(() => alerts.close());
  return { alerts, outcomes };
}

const failure: FailureAlert = {
  pipeline: 'orders',
  runId: 'orders-12',
  attempts: 4,
  error: {
    code: 'SOURCE_CONNECTION',
    message: 'connect ECONNREFUSED 10.0.0.5:5432 (postgres://etl:hunter2@db1/shop)',
  },
  lastSuccessAt: '2026-05-21T08:00:00.000Z',
  rows: 0,
  firstFailureAt: '2026-05-21T09:40:00.000Z',
  nextRun: { kind: 'schedule', at: '2026-05-22T00:00:00.000Z' },
  scheduled: true,
};

/** The receiver's side of the signature check (docs/observability.md). */
function verify(
  headers: Record<string, string | string[] | undefined>,
  body: string,
  secret: string,
): boolean {
  const timestamp = String(headers['x-etld-timestamp']);
  const given = Buffer.from(String(headers['x-etld-signature']));
  const wanted = Buffer.from(
    `sha256=${createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex')}`,
  );
  return given.length === wanted.length && timingSafeEqual(given, wanted);
}

describe('webhook and Slack alert channels', () => {
  it('posts a signed version-1 body to the webhook and the mail as a Slack message, one row per channel', async () => {
    setup();
    const { hook, slack } = await receivers();
    const built = channels({ HOOK_URL: hook.url, HOOK_SECRET: SECRET, SLACK_URL: slack.url }, [
      { name: 'pager', type: 'webhook', url_env: 'HOOK_URL', secret_env: 'HOOK_SECRET' },
      { name: 'ops-slack', type: 'slack', url_env: 'SLACK_URL' },
    ]);
    const { alerts, outcomes } = service({ channels: built.alertChannels });
    alerts.notifyFailure(failure);
    await alerts.flush();

    expect(hook.requests).toHaveLength(1);
    const request = hook.requests[0]!;
    expect(request.method).toBe('POST');
    expect(request.headers['content-type']).toBe('application/json; charset=utf-8');
    expect(request.headers['user-agent']).toBe('etld/0.2.0');
    expect(request.headers['x-etld-event']).toBe('alert.failure');
    expect(verify(request.headers, request.body, SECRET)).toBe(true);
    expect(verify(request.headers, request.body, 'another-key')).toBe(false);
    expect(verify(request.headers, request.body.replace('orders', 'orderz'), SECRET)).toBe(false);
    const body = JSON.parse(request.body);
    const mail = failureMail(failure, {
      host: 'etl-host-1',
      now: new Date(T0),
      unit: 'etld',
      suppressed: 0,
      suppressedSince: null,
      throttleMs: 30 * 60_000,
    });
    expect(body).toEqual({
      version: 1,
      event: 'alert.failure',
      id: expect.stringMatching(/^etl-host-1:alert:\d+$/),
      occurred_at: '2026-05-21T10:00:00.000Z',
      host: 'etl-host-1',
      etld_version: '0.2.0',
      alert: {
        kind: 'failure',
        pipeline: 'orders',
        run_id: 'orders-12',
        subject: '[etld] orders FAILED after 4 attempts: SOURCE_CONNECTION',
        text: mail.text,
        suppressed: 0,
        suppressed_since: null,
        details: {
          pipeline: 'orders',
          run_id: 'orders-12',
          attempts: 4,
          error: {
            code: 'SOURCE_CONNECTION',
            message: 'connect ECONNREFUSED 10.0.0.5:5432 (postgres://etl:***@db1/shop)',
          },
          last_success_at: '2026-05-21T08:00:00.000Z',
          rows: 0,
          first_failure_at: '2026-05-21T09:40:00.000Z',
          next_run: { kind: 'schedule', at: '2026-05-22T00:00:00.000Z' },
          scheduled: true,
        },
      },
    });
    expect(request.body).not.toContain('hunter2');
    expect(Math.abs(Number(request.headers['x-etld-timestamp']) - T0 / 1000)).toBeLessThan(2);

    // Slack: accepted by the Slack-format receiver, with the mail's subject and its whole text.
    expect(slack.requests).toHaveLength(1);
    const message = JSON.parse(slack.requests[0]!.body);
    expect(message.text).toBe(mail.subject);
    expect(message.blocks[0].text.text).toBe(`*${mail.subject}*`);
    const shown = message.blocks
      .slice(1)
      .map((b: { text: { text: string } }) => b.text.text.replace(/^```\n/, '').replace(/\n```$/, ''))
      .join('\n');
    expect(shown).toBe(mail.text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;'));
    expect(shown).toContain('etlctl logs orders --run orders-12');

    const rows = store.listAlerts('orders', new Date(T0 - 60_000).toISOString());
    expect(rows.map((r) => [r.recipients, r.status]).sort()).toEqual([
      ['slack:ops-slack', 'sent'],
      ['webhook:pager', 'sent'],
    ]);
    expect(outcomes.sort()).toEqual(['failure/ops-slack/sent', 'failure/pager/sent']);
    // No SMTP and no address: e-mail is simply not a channel here, not a failure.
    expect(rows.some((r) => r.detail?.includes('SMTP'))).toBe(false);
    // The URLs carry tokens: they appear nowhere.
    const everything = JSON.stringify({ rows, logs });
    expect(everything).not.toContain('T0K3N');
    expect(everything).not.toContain('XXXXsecretXXXX');
    expect(everything).not.toContain(SECRET);
  });

  it('routes per pipeline and kind: default channels take every pipeline, others only pipelines naming them', async () => {
    setup();
    const { hook, slack } = await receivers();
    const built = channels({ HOOK_URL: hook.url, SLACK_URL: slack.url }, [
      { name: 'everything', type: 'webhook', url_env: 'HOOK_URL' },
      { name: 'team-a', type: 'slack', url_env: 'SLACK_URL', default: false, kinds: ['failure', 'stale'] },
    ]);
    const routes: Record<string, string[]> = { orders: ['team-a'], billing: [], legacy: ['team-b'] };
    const { alerts } = service({ channels: built.alertChannels, channelsFor: (p) => routes[p] });
    alerts.notifyFailure(failure);
    alerts.notifyFailure({ ...failure, pipeline: 'billing', runId: 'billing-3' });
    alerts.notifyStall({ pipeline: 'orders', runId: 'orders-13', stalledForMs: 600_000 });
    alerts.notifyFailure({ ...failure, pipeline: 'legacy', runId: 'legacy-1' });
    alerts.notifyLowDisk({ path: '/var/lib/etld', label: 'state', freeBytes: 1024, percent: 1 });
    await alerts.flush();

    expect(slack.requests.map((r) => JSON.parse(r.body).text)).toEqual([
      '[etld] orders FAILED after 4 attempts: SOURCE_CONNECTION',
    ]);
    expect(
      hook.requests.map((r) => JSON.parse(r.body).event + ' ' + JSON.parse(r.body).alert.pipeline),
    ).toEqual([
      'alert.failure orders',
      'alert.failure billing',
      'alert.stall orders',
      'alert.failure legacy',
      'alert.low_disk null',
    ]);
    const legacy = store.listAlerts('legacy', new Date(T0 - 60_000).toISOString());
    expect(legacy.find((r) => r.recipients === 'team-b')).toMatchObject({
      status: 'failed',
      detail: expect.stringMatching(/^unknown channel "team-b"/),
    });
  });

  it('the existing throttle applies to every channel, and a recovery ends the episode', async () => {
    setup();
    const { hook, slack } = await receivers();
    const built = channels({ HOOK_URL: hook.url, SLACK_URL: slack.url }, [
      { name: 'pager', type: 'webhook', url_env: 'HOOK_URL' },
      { name: 'ops-slack', type: 'slack', url_env: 'SLACK_URL' },
    ]);
    const { alerts, outcomes } = service({ channels: built.alertChannels });
    alerts.notifyFailure(failure);
    now += 60_000;
    alerts.notifyFailure({ ...failure, runId: 'orders-13' });
    now += 60_000;
    alerts.notifyFailure({ ...failure, runId: 'orders-14' });
    now += 60_000;
    alerts.notifyRecovery({ pipeline: 'orders', runId: 'orders-15', rows: 9, previousFailureAt: null });
    await alerts.flush();
    expect(hook.requests.map((r) => JSON.parse(r.body).event)).toEqual(['alert.failure', 'alert.recovery']);
    expect(slack.requests.map((r) => JSON.parse(r.body).text)).toEqual([
      '[etld] orders FAILED after 4 attempts: SOURCE_CONNECTION',
      '[etld] orders RECOVERED (run orders-15)',
    ]);
    expect(JSON.parse(slack.requests[1]!.body).blocks[1].text.text).toContain(
      '2 failure alerts were suppressed during the failure.',
    );
    expect(outcomes.filter((o) => o.endsWith('/suppressed')).sort()).toEqual([
      'failure/ops-slack/suppressed',
      'failure/ops-slack/suppressed',
      'failure/pager/suppressed',
      'failure/pager/suppressed',
    ]);
    const suppressed = store
      .listAlerts('orders', new Date(T0 - 60_000).toISOString())
      .filter((r) => r.status === 'suppressed');
    expect(suppressed.map((r) => r.recipients)).toEqual([
      'webhook:pager, slack:ops-slack',
      'webhook:pager, slack:ops-slack',
    ]);
  });

  it('retries a failing receiver with backoff, gives up at once on a permanent refusal, and never blocks the caller', async () => {
    setup();
    const { hook, slack } = await receivers();
    hook.answers = [503, 500];
    slack.answers = [404];
    const built = channels({ HOOK_URL: hook.url, SLACK_URL: slack.url }, [
      { name: 'pager', type: 'webhook', url_env: 'HOOK_URL' },
      { name: 'ops-slack', type: 'slack', url_env: 'SLACK_URL' },
    ]);
    const { alerts } = service({ channels: built.alertChannels });
    alerts.notifyStall({ pipeline: 'orders', runId: 'orders-7', stalledForMs: 600_000 });
    await alerts.flush();
    expect(hook.requests).toHaveLength(3);
    expect(new Set(hook.requests.map((r) => r.headers['x-etld-delivery'])).size).toBe(1);
    expect(slack.requests).toHaveLength(1);
    const rows = store.listAlerts('orders', new Date(T0 - 60_000).toISOString());
    expect(rows.find((r) => r.recipients === 'webhook:pager')).toMatchObject({
      status: 'sent',
      detail: 'sent on attempt 3 after: webhook pager: HTTP 500: error 500',
    });
    expect(rows.find((r) => r.recipients === 'slack:ops-slack')).toMatchObject({
      status: 'failed',
      detail: 'refused, not retried: slack ops-slack: HTTP 404: no_service',
    });

    // A receiver that never answers: the caller returns at once, close() ends the wait.
    hook.answers = ['hang'];
    const started = Date.now();
    alerts.notifyFailure(failure);
    expect(Date.now() - started).toBeLessThan(200);
    await waitFor(() => (hook.requests.length === 4 ? true : undefined), { what: 'the hanging request' });
    await alerts.close();
    expect(
      store
        .listAlerts('orders', new Date(T0 - 60_000).toISOString())
        .find((r) => r.kind === 'failure' && r.recipients === 'webhook:pager'),
    ).toMatchObject({ status: 'failed', detail: expect.stringMatching(/^daemon stopping/) });
  });

  it('takes URLs and secrets only from the environment or files, and names what is missing', () => {
    expect(() =>
      daemonSettingsSchema.parse({
        alerts: { channels: [{ name: 'x', type: 'slack', url: 'https://hooks.example/T/B/C' }] },
      }),
    ).toThrow(/a webhook URL is a secret/);
    expect(() =>
      daemonSettingsSchema.parse({ alerts: { channels: [{ name: 'x', type: 'slack' }] } }),
    ).toThrow(/give exactly one of url_env or url_file/);
    expect(() =>
      daemonSettingsSchema.parse({
        alerts: {
          channels: [
            { name: 'x', type: 'slack', url_env: 'A' },
            { name: 'x', type: 'webhook', url_env: 'B' },
          ],
        },
      }),
    ).toThrow(/duplicate channel name \\"x\\"/);
    expect(() => channels({}, [{ name: 'pager', type: 'webhook', url_env: 'PAGER_URL' }])).toThrow(
      'alerts.channels pager: environment variable PAGER_URL (url_env) is not set',
    );
    expect(() =>
      channels({ U: 'http://127.0.0.1:1/x' }, [
        { name: 'pager', type: 'webhook', url_env: 'U', secret_file: '/nonexistent/key' },
      ]),
    ).toThrow('alerts.channels pager: cannot read secret_file /nonexistent/key (ENOENT)');
  });
});
