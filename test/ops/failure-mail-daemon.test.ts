/**
 * Failure mails of a spawned etld, delivered to a real SMTP server on loopback: the "First failure"
 * a mail reports is the start of the pipeline's current failure streak (the first attempt of the
 * first run that failed since the last success), not the time of the attempt or the run being
 * reported; and the mail says what runs the pipeline again: its schedule at the next fire time,
 * nothing for a pipeline without a schedule (no `schedule:` or `schedule: manual`: "manual only"),
 * nothing for a one-shot `at` schedule whose time has passed, nothing while it is paused.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DaemonClient } from '../../shared/client/client.js';
import {
  connectWhenListening,
  makeTempHome,
  spawnDaemon,
  type DaemonProcess,
  type TempHome,
} from '../helpers/daemon-process.js';
import { freePort } from '../helpers/free-port.js';
import { waitFor } from '../helpers/process.js';
import { startSmtpReceiver, type SmtpReceiver } from './smtp-receiver.js';

let smtp: SmtpReceiver;
let home: TempHome;
let daemon: DaemonProcess;
let client: DaemonClient;

function pipelineYaml(name: string, sourcePort: number, schedule: string | null): string {
  // Nothing listens on the source port: every attempt fails at once with SOURCE_CONNECTION
  // (retryable), so each run fails its first attempt, is retried once a second later, and fails.
  return `name: ${name}
${schedule === null ? '' : `schedule: "${schedule}"\n`}timezone: UTC
source:
  type: postgres
  connection: { host: 127.0.0.1, port: ${sourcePort}, database: shop, user: etl, connect_timeout: 5s }
  table: public.${name}
load: { mode: full }
destination: { type: duckdb, path: ${name}.duckdb, table: ${name} }
error_handling: { max_retries: 1, retry_delay: 1s, max_retry_delay: 1s, retry_timeout: 5m }
`;
}

/** The mail about `runId`, once it has arrived. */
function mailFor(runId: string): Promise<SmtpReceiver['mails'][number]> {
  return waitFor(() => smtp.mails.find((m) => m.text.includes(`Run:           ${runId}\n`)), {
    timeoutMs: 60_000,
    what: `the failure mail of ${runId}`,
  });
}

const field = (text: string, name: string): string =>
  new RegExp(`^${name}:\\s+(.*)$`, 'm').exec(text)?.[1] ?? '(absent)';

beforeAll(async () => {
  smtp = await startSmtpReceiver();
  const sourcePort = await freePort();
  home = makeTempHome('etld-failure-mail-');
  home.writeSettings(
    [
      `smtp: { host: 127.0.0.1, port: ${smtp.port}, tls: false, starttls: false, from: "etld <etld@test.local>" }`,
      // No throttle: every final failure is mailed, so each run's mail can be read.
      'alerts: { email: [oncall@test.local], throttle: 0s }',
      '',
    ].join('\n'),
  );
  home.writePipeline('orders.yaml', pipelineYaml('orders', sourcePort, null));
  home.writePipeline('invoices.yaml', pipelineYaml('invoices', sourcePort, 'manual'));
  home.writePipeline('hourly.yaml', pipelineYaml('hourly', sourcePort, '0 */2 * * *'));
  // A one-shot schedule in the past: loading warns, and only an operator starts it.
  home.writePipeline('once.yaml', pipelineYaml('once', sourcePort, 'at 2020-01-01T00:00'));
  home.writePipeline('held.yaml', pipelineYaml('held', sourcePort, '0 */2 * * *'));
  daemon = spawnDaemon(home.dir);
  await daemon.waitForLine(/etld running/, 60_000);
  client = await connectWhenListening(home.socketPath, 'failure-mail-test');
});

afterAll(async () => {
  await client?.close();
  await daemon?.stop();
  home?.remove();
  await smtp?.close();
});

describe('failure mails of a spawned etld (real SMTP on loopback)', () => {
  it('report the first failure of the streak: across the retries of a run, and across runs', async () => {
    const first = await client.call('start', { pipeline: 'orders' });
    const firstMail = await mailFor(first.run_id);
    const firstRun = await client.call('run', { run_id: first.run_id });
    expect(firstRun.status).toBe('failed');
    expect(firstRun.attempts.map((a) => a.status)).toEqual(['failed', 'failed']);
    const [attempt1, attempt2] = firstRun.attempts;
    // The run's first attempt failed a second before the attempt the mail reports.
    expect(Date.parse(attempt2!.finished_at!)).toBeGreaterThan(Date.parse(attempt1!.finished_at!));
    expect(field(firstMail.text, 'First failure')).toBe(attempt1!.finished_at);
    expect(field(firstMail.text, 'First failure')).toBe(firstRun.first_failure_at);
    expect(field(firstMail.text, 'Attempts')).toBe('2');

    // A second run fails too: the pipeline has been failing since the first run's first attempt.
    const second = await client.call('start', { pipeline: 'orders' });
    const secondMail = await mailFor(second.run_id);
    const secondRun = await client.call('run', { run_id: second.run_id });
    expect(secondRun.first_failure_at).not.toBe(firstRun.first_failure_at);
    expect(field(secondMail.text, 'First failure')).toBe(attempt1!.finished_at);
    expect(field(secondMail.text, 'Last success')).toBe('never');
    // The journal command starts where the streak started.
    const since = attempt1!.finished_at!.slice(0, 19).replace('T', ' ');
    expect(secondMail.text).toContain(`--since "${since} UTC"`);
  });

  it('say "manual only" for a pipeline without a schedule, and the next fire time otherwise', async () => {
    const runs = {
      orders: (await client.call('history', { pipeline: 'orders', limit: 1 }))[0]!.id,
      invoices: (await client.call('start', { pipeline: 'invoices' })).run_id,
      hourly: (await client.call('start', { pipeline: 'hourly' })).run_id,
    };
    for (const name of ['orders', 'invoices'] as const) {
      const mail = await mailFor(runs[name]);
      expect(mail.text).toContain(
        `Pipeline ${name} FAILED after 2 attempts; it has no schedule (manual only): start it again with etlctl start ${name}.`,
      );
      expect(field(mail.text, 'Next run')).toBe('manual only');
      expect(mail.text).not.toContain('waits for its next schedule');
    }
    const hourly = await mailFor(runs.hourly);
    const next = field(hourly.text, 'Next run');
    // The next even hour (UTC), after the run failed.
    expect(next).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:00:00\.000Z$/);
    expect(new Date(next).getUTCHours() % 2).toBe(0);
    expect(Date.parse(next)).toBeGreaterThan(Date.now() - 60_000);
    expect(Date.parse(next) - Date.now()).toBeLessThanOrEqual(2 * 3_600_000);
    expect(hourly.text).toContain(
      `Pipeline hourly FAILED after 2 attempts; it runs again by its schedule at ${next}.`,
    );
    expect(hourly.text).not.toContain('manual only');
  });

  it('say that nothing runs a pipeline again whose one-shot time has passed, or which is paused', async () => {
    const once = await mailFor((await client.call('start', { pipeline: 'once' })).run_id);
    expect(once.text).toContain(
      'Pipeline once FAILED after 2 attempts; its one-shot schedule "at 2020-01-01T00:00" has passed, so nothing runs it again: start it again with etlctl start once.',
    );
    expect(field(once.text, 'Next run')).toBe('none (one-shot schedule "at 2020-01-01T00:00" has passed)');
    expect(once.text).not.toContain('waits for its next schedule');

    await client.call('pause', { pipeline: 'held' });
    const held = await mailFor((await client.call('start', { pipeline: 'held' })).run_id);
    expect(held.text).toContain(
      'Pipeline held FAILED after 2 attempts; it is paused, so its schedule does not run it: etlctl resume held lets it run again.',
    );
    expect(field(held.text, 'Next run')).toBe('none while paused');
  });
});
