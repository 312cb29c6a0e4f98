/**
 * Data quality check alerts end to end in one process: a supervisor with a scripted engine (which
 * records check results in the attempt's row, as the engine does) hands its runs to the real
 * AlertService, which delivers to a real SMTP server, a webhook receiver and a Slack receiver on
 * loopback. A committed run whose checks warned or quarantined rows is alerted (`checks`), an
 * all-pass run is not, and the failure alert of a run a check stopped lists the failing checks.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { daemonSettingsSchema } from '../../shared/config/daemon-schema.js';
import type { CheckResult } from '../../shared/protocol.js';
import { buildAlertChannels } from '../../daemon/alerts/alert-channels.js';
import type { AlertService } from '../../daemon/alerts/alert-service.js';
import type { Supervisor } from '../../daemon/scheduler/supervisor.js';
import { openStateStore } from '../../daemon/state/sqlite-store.js';
import { startSmtpReceiver, type SmtpReceiver } from '../ops/smtp-receiver.js';
import { FakeClock } from '../scheduler/fake-clock.js';
import { judged, type ScriptedEngine } from '../scheduler/harness.js';
import { alertingSupervisor } from './alerting-supervisor.js';
import { startSlackReceiver, startWebhookReceiver, type Receiver } from './http-receiver.js';

const cleanups: (() => void | Promise<void>)[] = [];
afterEach(async () => {
  for (const step of cleanups.splice(0).reverse()) await step();
});

const PASS: CheckResult = {
  name: 'min_rows',
  type: 'min_rows',
  status: 'pass',
  on_fail: 'fail',
  observed: 120,
  threshold: '≥ 1 row',
  detail: 'check "min_rows" passed: the batch has 120 rows (at least 1 expected)',
};
const WARN: CheckResult = {
  name: 'max_null_pct(phone)',
  type: 'max_null_pct',
  status: 'warn',
  on_fail: 'warn',
  observed: 7.5,
  threshold: '≤ 5 %',
  detail:
    'check "max_null_pct(phone)" warns: 7.5 % of the batch (9 rows of 120) is NULL in column "phone" (at most 5 % allowed)',
};
const QUARANTINE: CheckResult = {
  name: 'not_null(email)',
  type: 'not_null',
  status: 'quarantine',
  on_fail: 'quarantine',
  observed: 3,
  threshold: '0 rows',
  detail: 'check "not_null(email)" quarantined rows: 3 rows of 120 have NULL in column "email"',
};
const FAIL: CheckResult = {
  name: 'unique(id)',
  type: 'unique',
  status: 'fail',
  on_fail: 'fail',
  observed: 4,
  threshold: '0 rows',
  detail: 'check "unique(id)" failed: 4 rows of 120 share their value of (id) with another row',
};

interface World {
  readonly clock: FakeClock;
  readonly store: ReturnType<typeof openStateStore>;
  readonly engine: ScriptedEngine;
  readonly supervisor: Supervisor;
  readonly alerts: AlertService;
  readonly smtp: SmtpReceiver;
  readonly hook: Receiver;
  readonly slack: Receiver;
  /** Runs `orders` once by hand and waits until every alert it caused is delivered. */
  run(): Promise<void>;
}

async function world(): Promise<World> {
  const dir = mkdtempSync(join(tmpdir(), 'etld-check-alerts-'));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  const clock = new FakeClock('2026-05-21T10:00:00Z');
  const store = openStateStore(join(dir, 'state.db'), () => clock.now());
  cleanups.push(() => store.close());
  const smtp = await startSmtpReceiver();
  const hook = await startWebhookReceiver();
  const slack = await startSlackReceiver();
  cleanups.push(
    () => smtp.close(),
    () => hook.close(),
    () => slack.close(),
  );
  const settings = daemonSettingsSchema.parse({
    alerts: {
      channels: [
        { name: 'pager', type: 'webhook', url_env: 'HOOK_URL' },
        { name: 'ops-slack', type: 'slack', url_env: 'SLACK_URL' },
      ],
    },
  });
  const channels = buildAlertChannels(
    settings.alerts.channels,
    { env: { HOOK_URL: hook.url, SLACK_URL: slack.url } },
    { host: 'etl-host-1', version: '0.2.0' },
    () => clock.now(),
  );
  const { alerts, engine, supervisor } = alertingSupervisor({
    store,
    clock,
    smtpPort: smtp.port,
    channels,
    cleanups,
  });
  return {
    clock,
    store,
    engine,
    supervisor,
    alerts,
    smtp,
    hook,
    slack,
    async run() {
      supervisor.trigger('orders', 'manual');
      await clock.advance(1_000);
      await alerts.flush();
    },
  };
}

const EXPECTED_LINES = [
  '  not_null(email): QUARANTINE, observed 3 rows against 0 rows',
  '    check "not_null(email)" quarantined rows: 3 rows of 120 have NULL in column "email"',
  '  max_null_pct(phone): WARN, observed 7.5 % against ≤ 5 %',
  '    check "max_null_pct(phone)" warns: 7.5 % of the batch (9 rows of 120) is NULL in column "phone" (at most 5 % allowed)',
];

describe('data quality check alerts', () => {
  it('alerts a committed run whose checks warned or quarantined rows by mail, webhook and Slack; an all-pass run sends nothing', async () => {
    const w = await world();
    w.engine.script(judged(w.store, [PASS, QUARANTINE, WARN], 117));
    await w.run();
    expect(w.store.getRun('orders-1-1')).toMatchObject({ status: 'succeeded', rowsLoaded: 117 });

    const subject = '[etld] orders CHECKS: 1 quarantine, 1 warn (run orders-1)';
    expect(w.smtp.mails).toHaveLength(1);
    const mail = w.smtp.mails[0]!;
    expect(mail.subject).toBe(subject);
    expect(mail.to).toEqual(['oncall@test.local']);
    for (const expected of [
      'Pipeline orders committed run orders-1, but 2 of its 3 data quality checks did not pass (1 quarantine, 1 warn).',
      "Rows failing a quarantine check went to the pipeline's quarantine table, not to its destination.",
      'Rows loaded: 117',
      'Checks:      1 quarantine, 1 warn, 1 pass',
      `Checks that did not pass:\n${EXPECTED_LINES.join('\n')}`,
      '  etlctl run orders-1',
      '  journalctl -u etld RUN_ID=orders-1',
    ])
      expect(mail.text).toContain(expected);
    // Only the checks that did not pass are listed.
    expect(mail.text).not.toContain('min_rows');

    expect(w.hook.requests).toHaveLength(1);
    expect(w.hook.requests[0]!.headers['x-etld-event']).toBe('alert.checks');
    const body = JSON.parse(w.hook.requests[0]!.body);
    expect(body.alert).toMatchObject({
      kind: 'checks',
      pipeline: 'orders',
      run_id: 'orders-1',
      subject,
      text: mail.text,
      details: { pipeline: 'orders', run_id: 'orders-1', attempts: 1, rows: 117 },
    });
    expect(body.alert.details.checks).toEqual([PASS, QUARANTINE, WARN]);

    expect(w.slack.requests).toHaveLength(1);
    const slack = JSON.parse(w.slack.requests[0]!.body);
    expect(slack.text).toBe(subject);
    expect(slack.blocks[1].text.text).toContain(EXPECTED_LINES.join('\n'));

    const since = '2026-05-21T00:00:00.000Z';
    expect(
      w.store
        .listAlerts('orders', since)
        .map((a) => [a.kind, a.recipients, a.status])
        .sort(),
    ).toEqual([
      ['checks', 'oncall@test.local', 'sent'],
      ['checks', 'slack:ops-slack', 'sent'],
      ['checks', 'webhook:pager', 'sent'],
    ]);

    // The next run passes every check: no alert of any kind, not even a throttled one.
    w.engine.script(judged(w.store, [PASS, { ...WARN, status: 'pass', observed: 1 }], 120));
    await w.run();
    expect(w.store.getRun('orders-2-1')).toMatchObject({ status: 'succeeded', rowsLoaded: 120 });
    expect([w.smtp.mails.length, w.hook.requests.length, w.slack.requests.length]).toEqual([1, 1, 1]);
    expect(w.store.listAlerts('orders', since)).toHaveLength(3);
  });

  it('throttles check alerts per pipeline like the others: the next one counts those suppressed', async () => {
    const w = await world();
    w.engine.otherwise(judged(w.store, [WARN], 50));
    await w.run();
    await w.clock.advance(10 * 60_000);
    await w.run();
    expect(w.smtp.mails.map((m) => m.subject)).toEqual(['[etld] orders CHECKS: 1 warn (run orders-1)']);
    expect(
      w.store
        .listAlerts('orders', '2026-05-21T00:00:00.000Z')
        .filter((a) => a.status === 'suppressed')
        .map((a) => [a.kind, a.runId]),
    ).toEqual([['checks', 'orders-2']]);
    await w.clock.advance(30 * 60_000);
    await w.run();
    expect(w.smtp.mails.map((m) => m.subject)).toEqual([
      '[etld] orders CHECKS: 1 warn (run orders-1)',
      '[etld] orders CHECKS: 1 warn (run orders-3)',
    ]);
    expect(w.smtp.mails[1]!.text).toContain('1 more check alerts was suppressed since');
  });

  it('the failure alert of a run a check stopped lists the failing checks in the mail, webhook and Slack', async () => {
    const w = await world();
    w.engine.script(judged(w.store, [PASS, FAIL, WARN]));
    await w.run();
    const row = w.store.getRun('orders-1-1');
    expect(row).toMatchObject({ status: 'failed', errorCode: 'CHECK_FAILED' });
    expect(row?.checks).toEqual([PASS, FAIL, WARN]);

    expect(w.smtp.mails).toHaveLength(1);
    const mail = w.smtp.mails[0]!;
    expect(mail.subject).toBe('[etld] orders FAILED after 1 attempt: CHECK_FAILED');
    const listed = [
      'Failed data quality checks (nothing was committed):',
      '  unique(id): FAIL, observed 4 rows against 0 rows',
      '    check "unique(id)" failed: 4 rows of 120 share their value of (id) with another row',
    ].join('\n');
    expect(mail.text).toContain(listed);
    // Only failing checks: the warning did not matter, nothing was committed.
    expect(mail.text).not.toContain('max_null_pct(phone): WARN');

    const body = JSON.parse(w.hook.requests[0]!.body);
    expect(body.event).toBe('alert.failure');
    expect(body.alert.text).toContain(listed);
    expect(body.alert.details.failed_checks).toEqual([FAIL]);
    expect(JSON.parse(w.slack.requests[0]!.body).blocks[1].text.text).toContain(listed);
    // No checks alert for a run that committed nothing.
    expect(w.store.listAlerts('orders', '2026-05-21T00:00:00.000Z').map((a) => a.kind)).toEqual([
      'failure',
      'failure',
      'failure',
    ]);
  });
});
