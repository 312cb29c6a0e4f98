import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AlertService, type AlertServiceOptions } from '../../daemon/alerts/alert-service.js';
import type { SmtpSettings } from '../../daemon/alerts/mail-transport.js';
import { FanoutLogger, type LogRecord } from '../../daemon/logging/logger.js';
import { openStateStore } from '../../daemon/state/sqlite-store.js';
import type { StateStore } from '../../daemon/state/store.js';
import { freePort } from '../helpers/free-port.js';
import { startSmtpReceiver, type SmtpReceiver } from './smtp-receiver.js';

const T0 = Date.parse('2026-05-21T10:00:00.000Z');
const MINUTE = 60_000;
let dir: string;
let store: StateStore;
let now: number;
let logs: LogRecord[];
let receiver: SmtpReceiver | undefined;
const services: AlertService[] = [];

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'etld-alerts-'));
  now = T0;
  store = openStateStore(join(dir, 'state.db'), () => new Date(now));
  logs = [];
});
afterEach(async () => {
  for (const service of services.splice(0)) await service.close();
  await receiver?.close();
  receiver = undefined;
  store.close();
  rmSync(dir, { recursive: true, force: true });
});

function smtp(port: number, extra: Partial<SmtpSettings> = {}): SmtpSettings {
  return {
    host: '127.0.0.1',
    port,
    tls: false,
    starttls: false,
    from: 'etld <etld@test.local>',
    reject_unauthorized: true,
    ...extra,
  };
}

function service(port: number, extra: Partial<AlertServiceOptions> = {}): AlertService {
  const created = new AlertService({
    smtp: smtp(port),
    defaultRecipients: ['oncall@test.local'],
    recipientsFor: (pipeline) =>
      pipeline === 'orders' ? ['shop-team@test.local', 'oncall@test.local'] : undefined,
    throttleMs: 30 * MINUTE,
    store,
    logger: new FanoutLogger([{ write: (r) => logs.push(r) }]),
    host: 'etl-host-1',
    now: () => new Date(now),
    retry: { attempts: 3, delayMs: 20, maxDelayMs: 100 },
    ...extra,
  });
  services.push(created);
  return created;
}

const failure = (runId: string, attempts = 4) => ({
  pipeline: 'orders',
  runId,
  attempts,
  error: {
    code: 'SOURCE_CONNECTION',
    message: 'connect ECONNREFUSED 10.0.0.5:1433 (mssql://etl:hunter2@db1/shop)',
  },
  lastSuccessAt: '2026-05-21T08:00:00.000Z',
  rows: 0,
  firstFailureAt: '2026-05-21T09:40:00.000Z',
});

describe('AlertService over a real SMTP server', () => {
  it('mails a final failure with everything needed to act, to default and pipeline recipients', async () => {
    receiver = await startSmtpReceiver();
    const alerts = service(receiver.port);
    alerts.notifyFailure(failure('orders-12-4'));
    await alerts.flush();

    expect(receiver.mails).toHaveLength(1);
    const mail = receiver.mails[0]!;
    expect(mail.subject).toBe('[etld] orders FAILED after 4 attempts: SOURCE_CONNECTION');
    expect(mail.from).toBe('etld@test.local');
    expect(mail.to.sort()).toEqual(['oncall@test.local', 'shop-team@test.local']);
    for (const expected of [
      'Run:           orders-12-4',
      'Attempts:      4',
      'Error:         SOURCE_CONNECTION',
      'Message:       connect ECONNREFUSED 10.0.0.5:1433 (mssql://etl:***@db1/shop)',
      'Rows:          0',
      'Last success:  2026-05-21T08:00:00.000Z',
      'Host:          etl-host-1',
      '  etlctl status orders',
      '  etlctl logs orders --run orders-12-4',
      '  journalctl -u etld -p err --since "2026-05-21 09:40:00 UTC"',
    ]) {
      expect(mail.text).toContain(expected);
    }
    expect(mail.text).not.toContain('hunter2');
    expect(store.listAlerts('orders', new Date(T0 - MINUTE).toISOString())).toMatchObject([
      { kind: 'failure', status: 'sent', runId: 'orders-12-4', subject: mail.subject },
    ]);
  });

  it('names the run (not an attempt), the first failure, and what happens next for a pipeline without a schedule', async () => {
    receiver = await startSmtpReceiver();
    const alerts = service(receiver.port);
    alerts.notifyFailure({ ...failure('orders-12'), nextRun: { kind: 'manual' } });
    await alerts.flush();
    const mail = receiver.mails[0]!;
    expect(mail.text).toContain('First failure: 2026-05-21T09:40:00.000Z');
    expect(mail.text).toContain('it has no schedule (manual only): start it again with etlctl start orders');
    expect(mail.text).not.toContain('waits for its next schedule');
    expect(mail.text).toContain('  etlctl logs orders --run orders-12');
  });

  it('throttles per pipeline: 3 failures in a window give one mail, the next one counts the 2 suppressed', async () => {
    receiver = await startSmtpReceiver();
    const alerts = service(receiver.port);
    alerts.notifyFailure(failure('orders-1-4'));
    now += 5 * MINUTE;
    alerts.notifyFailure(failure('orders-2-4'));
    now += 5 * MINUTE;
    alerts.notifyFailure(failure('orders-3-4'));
    // Another pipeline has its own window.
    alerts.notifyFailure({ ...failure('billing-1-2'), pipeline: 'billing' });
    await alerts.flush();
    expect(receiver.mails.map((m) => m.subject)).toEqual([
      '[etld] orders FAILED after 4 attempts: SOURCE_CONNECTION',
      '[etld] billing FAILED after 4 attempts: SOURCE_CONNECTION',
    ]);
    expect(receiver.mails[1]!.to).toEqual(['oncall@test.local']);
    expect(store.listAlerts('orders', new Date(T0).toISOString()).map((a) => a.status)).toEqual([
      'suppressed',
      'suppressed',
      'sent',
    ]);

    now = T0 + 31 * MINUTE;
    alerts.notifyFailure(failure('orders-4-4'));
    await alerts.flush();
    expect(receiver.mails).toHaveLength(3);
    expect(receiver.mails[2]!.text).toContain(
      '2 more failure alerts were suppressed since 2026-05-21T10:05:00.000Z (one mail per 30m).',
    );
  });

  it('mails a recovery only after a failure, and the first failure after it again', async () => {
    receiver = await startSmtpReceiver();
    const alerts = service(receiver.port);
    alerts.notifyRecovery({ pipeline: 'orders', runId: 'orders-1-1', previousFailureAt: null, rows: 10 });
    await alerts.flush();
    expect(receiver.mails).toHaveLength(0);

    alerts.notifyFailure(failure('orders-2-4'));
    now += MINUTE;
    alerts.notifyFailure(failure('orders-3-4'));
    now += MINUTE;
    alerts.notifyRecovery({
      pipeline: 'orders',
      runId: 'orders-4-1',
      previousFailureAt: '2026-05-21T10:01:00.000Z',
      rows: 1234,
    });
    alerts.notifyRecovery({ pipeline: 'orders', runId: 'orders-5-1', previousFailureAt: null, rows: 5 });
    now += MINUTE;
    alerts.notifyFailure(failure('orders-6-4'));
    await alerts.flush();
    expect(receiver.mails.map((m) => m.subject)).toEqual([
      '[etld] orders FAILED after 4 attempts: SOURCE_CONNECTION',
      '[etld] orders RECOVERED (run orders-4-1)',
      '[etld] orders FAILED after 4 attempts: SOURCE_CONNECTION',
    ]);
    const recovery = receiver.mails[1]!.text;
    expect(recovery).toContain('Rows:             1234');
    expect(recovery).toContain('Previous failure: 2026-05-21T10:01:00.000Z');
    expect(recovery).toContain('1 failure alert was suppressed during the failure.');
    expect(recovery).toContain('  etlctl logs orders --run orders-4-1');
    // The failure after the recovery starts a new episode: no stale suppressed count.
    expect(receiver.mails[2]!.text).not.toContain('suppressed');
  });

  it('knows after a restart that a pipeline was failing, and keeps the throttle window', async () => {
    receiver = await startSmtpReceiver();
    const first = service(receiver.port);
    first.notifyFailure(failure('orders-1-4'));
    await first.close();
    now += MINUTE;
    const second = service(receiver.port);
    second.notifyFailure(failure('orders-2-4'));
    second.notifyRecovery({ pipeline: 'orders', runId: 'orders-3-1', previousFailureAt: null, rows: 1 });
    await second.flush();
    expect(receiver.mails.map((m) => m.subject)).toEqual([
      '[etld] orders FAILED after 4 attempts: SOURCE_CONNECTION',
      '[etld] orders RECOVERED (run orders-3-1)',
    ]);
  });

  it('retries with backoff when the SMTP server first refuses', async () => {
    receiver = await startSmtpReceiver({ refuseFirst: 2 });
    const alerts = service(receiver.port);
    alerts.notifyStall({ pipeline: 'orders', runId: 'orders-7-1', stalledForMs: 10 * MINUTE, rows: 3750 });
    await alerts.flush();
    expect(receiver.attempts).toBe(3);
    expect(receiver.mails).toHaveLength(1);
    expect(receiver.mails[0]!.subject).toBe('[etld] orders STALLED: no progress for 10m');
    expect(receiver.mails[0]!.text).toContain('Rows so far:   3750');
    const [row] = store.listAlerts('orders', new Date(T0 - MINUTE).toISOString());
    expect(row).toMatchObject({ kind: 'stall', status: 'sent' });
    expect(row!.detail).toMatch(/^sent on attempt 3 after: .*451/);
    expect(
      logs.filter((l) => l.level === 'warning' && l.message.includes('alert delivery attempt')),
    ).toHaveLength(2);
  });

  it('upgrades with STARTTLS and authenticates with the resolved password', async () => {
    receiver = await startSmtpReceiver({ starttls: true, auth: { user: 'etld', pass: 's3cret' } });
    const alerts = service(receiver.port, {
      smtp: smtp(receiver.port, { starttls: true, user: 'etld', reject_unauthorized: false }),
      smtpPassword: 's3cret',
    });
    alerts.notifyLowDisk({
      path: '/var/lib/etld',
      label: 'state',
      freeBytes: 512 * 1024 * 1024,
      totalBytes: 20 * 1024 ** 3,
      percent: 2.5,
    });
    await alerts.flush();
    expect(receiver.mails).toHaveLength(1);
    expect(receiver.mails[0]).toMatchObject({
      secure: true,
      user: 'etld',
      subject: '[etld] low disk on etl-host-1: state 2.5% free',
    });
    expect(receiver.mails[0]!.text).toContain('Free:  512 MiB (2.5% free)');
    expect(receiver.mails[0]!.to).toEqual(['oncall@test.local']);
    expect(store.listAlerts('disk:state', new Date(T0 - MINUTE).toISOString())[0]).toMatchObject({
      kind: 'low_disk',
      status: 'sent',
    });
  });

  it('speaks implicit TLS (port 465 style) and refuses an untrusted certificate unless told otherwise', async () => {
    receiver = await startSmtpReceiver({ implicitTls: true });
    const trusting = service(receiver.port, {
      smtp: smtp(receiver.port, { tls: true, reject_unauthorized: false }),
    });
    trusting.notifyFailure(failure('orders-1-4'));
    await trusting.flush();
    expect(receiver.mails).toHaveLength(1);
    expect(receiver.mails[0]!.secure).toBe(true);

    // smtp-server's built-in certificate is self-signed: the default verification must refuse it.
    const strict = service(receiver.port, { smtp: smtp(receiver.port, { tls: true }) });
    strict.notifyFailure({ ...failure('billing-1-4'), pipeline: 'billing' });
    await strict.flush();
    expect(receiver.mails).toHaveLength(1);
    const [row] = store.listAlerts('billing', new Date(T0 - MINUTE).toISOString());
    expect(row).toMatchObject({ status: 'failed' });
    expect(row!.detail).toMatch(/certificate/i);
  });

  it('records a failed alert when authentication is refused', async () => {
    receiver = await startSmtpReceiver({ starttls: true, auth: { user: 'etld', pass: 's3cret' } });
    const alerts = service(receiver.port, {
      smtp: smtp(receiver.port, { starttls: true, user: 'etld', reject_unauthorized: false }),
      smtpPassword: 'wrong',
    });
    alerts.notifyFailure(failure('orders-1-4'));
    await alerts.flush();
    expect(receiver.mails).toHaveLength(0);
    const [row] = store.listAlerts('orders', new Date(T0 - MINUTE).toISOString());
    expect(row).toMatchObject({ status: 'failed' });
    expect(row!.detail).toMatch(/gave up after 3 attempts: .*Invalid username or password/);
    expect(row!.detail).not.toContain('wrong');
  });
});

describe('AlertService when mail cannot go out', () => {
  it('a dead SMTP server never blocks or throws in the caller, and the alert ends failed', async () => {
    const port = await freePort();
    const alerts = service(port);
    let returned = false;
    expect(() => {
      alerts.notifyFailure(failure('orders-1-4'));
      returned = true;
    }).not.toThrow();
    expect(returned).toBe(true);
    // Decided and recorded synchronously; delivery runs later.
    expect(store.listAlerts('orders', new Date(T0 - MINUTE).toISOString())[0]).toMatchObject({
      status: 'pending',
    });
    await alerts.flush();
    const [row] = store.listAlerts('orders', new Date(T0 - MINUTE).toISOString());
    expect(row).toMatchObject({ status: 'failed' });
    expect(row!.detail).toMatch(/gave up after 3 attempts: .*ECONNREFUSED/);
    expect(logs.some((l) => l.level === 'error' && l.message.startsWith('alert not delivered'))).toBe(true);
  });

  it('close() stops waiting retries at once', async () => {
    const port = await freePort();
    const alerts = service(port, { retry: { attempts: 5, delayMs: 3_600_000, maxDelayMs: 3_600_000 } });
    alerts.notifyFailure(failure('orders-1-4'));
    await alerts.close();
    const [row] = store.listAlerts('orders', new Date(T0 - MINUTE).toISOString());
    expect(row).toMatchObject({ status: 'failed' });
    expect(row!.detail).toMatch(/^daemon stopping; last error: .*ECONNREFUSED/);
  });

  it('without SMTP settings or recipients the alert is recorded as failed with the reason', async () => {
    const noSmtp = service(1, { smtp: null });
    noSmtp.notifyFailure(failure('orders-1-4'));
    const noRecipients = service(1, { defaultRecipients: [], recipientsFor: () => [] });
    noRecipients.notifyStall({ pipeline: 'billing', runId: 'billing-1-1', stalledForMs: 60_000 });
    await noSmtp.flush();
    await noRecipients.flush();
    const since = new Date(T0 - MINUTE).toISOString();
    expect(store.listAlerts('orders', since)[0]).toMatchObject({
      status: 'failed',
      detail: 'SMTP is not configured (smtp in etld.yaml)',
    });
    expect(store.listAlerts('billing', since)[0]).toMatchObject({
      status: 'failed',
      detail: 'no recipients (alerts.email)',
    });
  });

  it('a broken state store is logged, never thrown into the run', () => {
    const broken = {
      ...store,
      recordAlert: () => {
        throw new Error('database is locked');
      },
      listAlerts: () => [],
      updateAlert: () => undefined,
    };
    const alerts = service(1, { store: broken });
    expect(() => alerts.notifyFailure(failure('orders-1-4'))).not.toThrow();
    expect(
      logs.some((l) => l.level === 'error' && l.message === 'alert not processed: database is locked'),
    ).toBe(true);
  });
});
