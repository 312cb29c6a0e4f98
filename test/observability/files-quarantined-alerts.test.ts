/**
 * Quarantined-files alerts end to end in one process: a supervisor with a scripted engine (whose
 * outcomes carry `quarantinedFiles`, as a files run under `on_bad_file: skip` returns them) hands
 * its runs to the real AlertService, which delivers to a real SMTP server, webhook receivers and a
 * Slack receiver on loopback. A run that quarantined files is alerted (`files_quarantined`) with
 * the keys and reasons, at most 20 of them; a run that quarantined none is not; the throttle and
 * the channels' `kinds` apply as to every kind.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { daemonSettingsSchema } from '../../shared/config/daemon-schema.js';
import { buildAlertChannels } from '../../daemon/alerts/alert-channels.js';
import { openStateStore } from '../../daemon/state/sqlite-store.js';
import { startSmtpReceiver, type SmtpReceiver } from '../ops/smtp-receiver.js';
import { FakeClock } from '../scheduler/fake-clock.js';
import { outcome, type Script, type ScriptedEngine } from '../scheduler/harness.js';
import { alertingSupervisor } from './alerting-supervisor.js';
import { startSlackReceiver, startWebhookReceiver, type Receiver } from './http-receiver.js';

const cleanups: (() => void | Promise<void>)[] = [];
afterEach(async () => {
  for (const step of cleanups.splice(0).reverse()) await step();
});

const SINCE = '2026-05-21T00:00:00.000Z';

interface QuarantinedFile {
  readonly key: string;
  readonly reason: string;
}

const CORRUPT: QuarantinedFile = {
  key: 'orders/2026-05-20.csv.gz',
  reason: 'orders/2026-05-20.csv.gz: not a gzip stream (invalid header at byte 0)',
};
const BAD_VALUE: QuarantinedFile = {
  key: 'orders/2026-05-21.csv',
  reason: 'orders/2026-05-21.csv line 17, column amount: not a decimal(12,2)',
};

/** A succeeded run that loaded `rows` rows and quarantined `files`. */
function quarantining(files: readonly QuarantinedFile[], rows = 40): Script {
  return () => Promise.resolve({ ...outcome(rows), quarantinedFiles: files });
}

function manyFiles(count: number): QuarantinedFile[] {
  return Array.from({ length: count }, (_, i) => {
    const key = `landing/part-${String(i + 1).padStart(3, '0')}.parquet`;
    return { key, reason: `${key}: truncated Parquet file (no footer)` };
  });
}

interface World {
  readonly clock: FakeClock;
  readonly store: ReturnType<typeof openStateStore>;
  readonly engine: ScriptedEngine;
  readonly smtp: SmtpReceiver;
  /** A default webhook taking every kind. */
  readonly hook: Receiver;
  /** A default webhook taking `failure` alerts only. */
  readonly failuresOnly: Receiver;
  /** A default Slack channel taking `files_quarantined` alerts only. */
  readonly slack: Receiver;
  /** Runs `orders` once by hand and waits until every alert it caused is delivered. */
  run(): Promise<void>;
}

async function world(): Promise<World> {
  const dir = mkdtempSync(join(tmpdir(), 'etld-files-alerts-'));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  const clock = new FakeClock('2026-05-21T10:00:00Z');
  const store = openStateStore(join(dir, 'state.db'), () => clock.now());
  cleanups.push(() => store.close());
  const smtp = await startSmtpReceiver();
  const hook = await startWebhookReceiver();
  const failuresOnly = await startWebhookReceiver('/hooks/failures');
  const slack = await startSlackReceiver();
  cleanups.push(
    () => smtp.close(),
    () => hook.close(),
    () => failuresOnly.close(),
    () => slack.close(),
  );
  const settings = daemonSettingsSchema.parse({
    alerts: {
      channels: [
        { name: 'pager', type: 'webhook', url_env: 'HOOK_URL' },
        { name: 'failures', type: 'webhook', url_env: 'FAILURES_URL', kinds: ['failure'] },
        { name: 'data-slack', type: 'slack', url_env: 'SLACK_URL', kinds: ['files_quarantined'] },
      ],
    },
  });
  const channels = buildAlertChannels(
    settings.alerts.channels,
    { env: { HOOK_URL: hook.url, FAILURES_URL: failuresOnly.url, SLACK_URL: slack.url } },
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
    smtp,
    hook,
    failuresOnly,
    slack,
    async run() {
      supervisor.trigger('orders', 'manual');
      await clock.advance(1_000);
      await alerts.flush();
    },
  };
}

describe('quarantined-files alerts', () => {
  it('alerts a run that quarantined files by mail, webhook and Slack with each key and reason; runs quarantining none send nothing', async () => {
    const w = await world();
    w.engine.script(quarantining([CORRUPT, BAD_VALUE], 117));
    await w.run();
    expect(w.store.getRun('orders-1-1')).toMatchObject({ status: 'succeeded', rowsLoaded: 117 });

    const subject = '[etld] orders FILES QUARANTINED: 2 files (run orders-1)';
    expect(w.smtp.mails).toHaveLength(1);
    const mail = w.smtp.mails[0]!;
    expect(mail.subject).toBe(subject);
    expect(mail.to).toEqual(['oncall@test.local']);
    const listed = [
      'Quarantined files:',
      '  orders/2026-05-20.csv.gz',
      '    orders/2026-05-20.csv.gz: not a gzip stream (invalid header at byte 0)',
      '  orders/2026-05-21.csv',
      '    orders/2026-05-21.csv line 17, column amount: not a decimal(12,2)',
      '',
      'To look further:',
    ].join('\n');
    for (const expected of [
      'Pipeline orders: run orders-1 quarantined 2 files (source.on_bad_file: skip). The run succeeded; nothing of these files was loaded.',
      'They stay out until a new version arrives (a changed file is tried again) or etlctl files forget orders KEY is run.',
      'Quarantined: 2 files',
      'Rows loaded: 117',
      listed,
      '  etlctl files orders --quarantined',
      '  etlctl run orders-1',
      '  journalctl -u etld RUN_ID=orders-1',
    ])
      expect(mail.text).toContain(expected);
    expect(mail.text).not.toContain('more;');

    expect(w.hook.requests).toHaveLength(1);
    expect(w.hook.requests[0]!.headers['x-etld-event']).toBe('alert.files_quarantined');
    const body = JSON.parse(w.hook.requests[0]!.body);
    expect(body.event).toBe('alert.files_quarantined');
    expect(body.alert).toEqual({
      kind: 'files_quarantined',
      pipeline: 'orders',
      run_id: 'orders-1',
      subject,
      text: mail.text,
      suppressed: 0,
      suppressed_since: null,
      details: {
        pipeline: 'orders',
        run_id: 'orders-1',
        rows: 117,
        file_count: 2,
        files: [CORRUPT, BAD_VALUE],
        files_not_listed: 0,
      },
    });

    expect(w.slack.requests).toHaveLength(1);
    const slack = JSON.parse(w.slack.requests[0]!.body);
    expect(slack.text).toBe(subject);
    expect(slack.blocks[1].text.text).toContain(listed);

    // The channel taking failures only got nothing.
    expect(w.failuresOnly.requests).toEqual([]);
    expect(
      w.store
        .listAlerts('orders', SINCE)
        .map((a) => [a.kind, a.recipients, a.status])
        .sort(),
    ).toEqual([
      ['files_quarantined', 'oncall@test.local', 'sent'],
      ['files_quarantined', 'slack:data-slack', 'sent'],
      ['files_quarantined', 'webhook:pager', 'sent'],
    ]);

    // Runs that quarantined nothing (no list, an empty list) send no alert, not even a throttled one.
    w.engine.script(quarantining([], 12), () => Promise.resolve(outcome(3)));
    await w.run();
    await w.run();
    expect(w.store.getRun('orders-3-1')).toMatchObject({ status: 'succeeded' });
    expect([w.smtp.mails.length, w.hook.requests.length, w.slack.requests.length]).toEqual([1, 1, 1]);
    expect(w.store.listAlerts('orders', SINCE)).toHaveLength(3);
  });

  it('lists the first 20 files in every channel and counts the rest, naming the command that lists them all', async () => {
    const w = await world();
    const files = manyFiles(23);
    w.engine.script(quarantining(files, 0));
    await w.run();

    const mail = w.smtp.mails[0]!;
    expect(mail.subject).toBe('[etld] orders FILES QUARANTINED: 23 files (run orders-1)');
    for (const f of files.slice(0, 20)) expect(mail.text).toContain(`  ${f.key}\n    ${f.reason}\n`);
    for (const f of files.slice(20)) expect(mail.text).not.toContain(f.key);
    expect(mail.text).toContain(
      `  ${files[19]!.key}\n    ${files[19]!.reason}\n  and 3 more; etlctl files orders --quarantined lists them all.\n`,
    );

    const details = JSON.parse(w.hook.requests[0]!.body).alert.details;
    expect(details).toMatchObject({ file_count: 23, files_not_listed: 3 });
    expect(details.files).toEqual(files.slice(0, 20));

    const slackText = JSON.parse(w.slack.requests[0]!.body).blocks[1].text.text as string;
    expect(slackText).toContain('and 3 more; etlctl files orders --quarantined lists them all.');
    expect(slackText).not.toContain(files[20]!.key);
  });

  it('throttles per pipeline like the other kinds: the next mail counts those suppressed', async () => {
    const w = await world();
    w.engine.otherwise(quarantining([CORRUPT]));
    await w.run();
    await w.clock.advance(10 * 60_000);
    await w.run();
    expect(w.smtp.mails.map((m) => m.subject)).toEqual([
      '[etld] orders FILES QUARANTINED: 1 file (run orders-1)',
    ]);
    expect(w.hook.requests).toHaveLength(1);
    expect(
      w.store
        .listAlerts('orders', SINCE)
        .filter((a) => a.status === 'suppressed')
        .map((a) => [a.kind, a.runId, a.recipients]),
    ).toEqual([['files_quarantined', 'orders-2', 'oncall@test.local, webhook:pager, slack:data-slack']]);

    await w.clock.advance(30 * 60_000);
    await w.run();
    expect(w.smtp.mails.map((m) => m.subject)).toEqual([
      '[etld] orders FILES QUARANTINED: 1 file (run orders-1)',
      '[etld] orders FILES QUARANTINED: 1 file (run orders-3)',
    ]);
    const third = w.smtp.mails[1]!.text;
    expect(third).toContain('Pipeline orders: run orders-3 quarantined 1 file (source.on_bad_file: skip).');
    expect(third).toContain('It stays out until a new version arrives');
    expect(third).toContain('1 more quarantined-files alerts was suppressed since');
    expect(JSON.parse(w.hook.requests[1]!.body).alert).toMatchObject({ run_id: 'orders-3', suppressed: 1 });
  });
});
