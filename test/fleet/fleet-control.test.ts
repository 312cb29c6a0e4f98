/**
 * Control from any host: `etlctl stop P` sent to a host that does not run P reaches the host
 * holding P's run lease over LISTEN/NOTIFY, which stops the run as a local stop would; the sender
 * says where it went. Below that, the NOTIFY messages: what is not a well-formed message for this
 * host is ignored (and never crashes the listener), an unanswered stop is DAEMON_UNREACHABLE, and a
 * listener whose connection is killed listens again. A second daemon under a running host's name
 * is refused at start-up.
 */
import { afterAll, afterEach, beforeAll, describe, expect, test } from 'vitest';
import { EtlError } from '../../shared/errors.js';
import { FleetControl, type StopOutcome } from '../../daemon/fleet/fleet-control.js';
import { CONTROL_CHANNEL, controlMessageFor } from '../../daemon/fleet/fleet-control-message.js';
import { FanoutLogger, type LogRecord } from '../../daemon/logging/logger.js';
import { etlctl } from '../cli/cli-harness.js';
import { connectWhenListening, spawnDaemon } from '../helpers/daemon-process.js';
import { startWhenReady } from '../helpers/daemon-kill.js';
import type { PostgresServer } from '../helpers/postgres-server.js';
import { waitFor } from '../helpers/process.js';
import {
  fleetHome,
  launchHost,
  ordersPipeline,
  startFleetPostgres,
  STATE_URL_ENV,
  stopHosts,
  type FleetHostProcess,
} from './fleet-harness.js';

let pg: PostgresServer;
const hosts: FleetHostProcess[] = [];
const controls: FleetControl[] = [];

beforeAll(async () => {
  pg = await startFleetPostgres(1000);
});
afterEach(async () => {
  // The daemons below listen on the same channel: no test's listener outlives its test.
  for (const control of controls.splice(0)) await control.close();
});
afterAll(async () => {
  await stopHosts(hosts);
  await pg.destroy();
});

const REQUEST_ID = '7b0c8f0e-3d2a-4b7e-9a51-0f6f1d2c3b4a';
const request = {
  to: 'host-a',
  from: 'host-b',
  action: 'stop',
  pipeline: 'orders',
  requestedBy: 'alice (etlctl/0.1.0, unix)',
  requestId: REQUEST_ID,
};

describe('control messages', () => {
  test('a well-formed request or acknowledgement for this host is read; anything else is ignored', () => {
    expect(controlMessageFor(JSON.stringify(request), 'host-a')).toEqual(request);
    const ack = { to: 'host-b', ack: REQUEST_ID, outcome: { run_id: 'orders-3', stopped: true } };
    expect(controlMessageFor(JSON.stringify(ack), 'host-b')).toEqual(ack);
    const ignored: (string | undefined)[] = [
      undefined,
      '',
      'not json',
      '{"to":',
      'null',
      '42',
      '"host-a"',
      '[]',
      JSON.stringify({ ...request, to: 'host-c' }),
      JSON.stringify({ ...request, action: 'start' }),
      JSON.stringify({ ...request, action: 'drop table' }),
      JSON.stringify({ ...request, requestId: 'not-a-uuid' }),
      JSON.stringify({ ...request, pipeline: '' }),
      JSON.stringify({ ...request, extra: true }),
      JSON.stringify({ to: 'host-a', ack: REQUEST_ID, outcome: { stopped: 'yes' } }),
      JSON.stringify({
        to: 'host-a',
        ack: REQUEST_ID,
        outcome: { error: { code: 'NO_SUCH', message: 'x' } },
      }),
    ];
    for (const payload of ignored) expect(controlMessageFor(payload, 'host-a')).toBeNull();
  });
});

function recordingLogger(): { logger: FanoutLogger; records: LogRecord[] } {
  const records: LogRecord[] = [];
  return { logger: new FanoutLogger([{ write: (record) => records.push(record) }]), records };
}

async function listening(
  host: string,
  stop: (pipeline: string, requestedBy: string) => StopOutcome,
  ackTimeoutMs = 5_000,
): Promise<{ control: FleetControl; records: LogRecord[] }> {
  const { logger, records } = recordingLogger();
  const control = new FleetControl({
    url: pg.url('etld_state'),
    host,
    logger,
    stop,
    ackTimeoutMs,
    reconnectMs: { first: 50, max: 500 },
  });
  controls.push(control);
  await control.start();
  return { control, records };
}

describe('fleet control over NOTIFY', () => {
  test('garbage, other hosts and other actions are ignored; a request for this host is carried out and acknowledged', async () => {
    const stops: [string, string][] = [];
    await listening('host-x', (pipeline, requestedBy) => {
      stops.push([pipeline, requestedBy]);
      return { run_id: `${pipeline}-1`, stopped: true };
    });
    const { control: sender } = await listening('host-y', () => ({ run_id: null, stopped: false }));
    const notify = (payload: string) =>
      pg.query('SELECT pg_notify($1, $2)', [CONTROL_CHANNEL, payload], 'etld_state');
    await notify('garbage');
    const forX = { ...request, to: 'host-x', from: 'host-y' };
    await notify(JSON.stringify({ ...forX, to: 'host-c' }));
    await notify(JSON.stringify({ ...forX, action: 'start' }));
    await notify(JSON.stringify({ ...forX, requestId: 'x' }));
    await notify(JSON.stringify({ ...forX, pipeline: 42 }));

    const outcome = await sender.forwardStop('host-x', 'orders', 'alice (etlctl/0.1.0, unix)');
    expect(outcome).toEqual({ run_id: 'orders-1', stopped: true });
    // Notifications arrive in commit order: the ignored ones were read (and dropped) before the real one.
    expect(stops).toEqual([['orders', 'alice (etlctl/0.1.0, unix), forwarded by host host-y']]);
  });

  test('a failure on the target comes back with its code; an unanswered stop is DAEMON_UNREACHABLE', async () => {
    await listening('host-d', () => {
      throw new EtlError('NOT_FOUND', 'no pipeline named "gone"');
    });
    const { control: sender } = await listening('host-e', () => ({ run_id: null, stopped: false }), 1_000);
    await expect(sender.forwardStop('host-d', 'gone', 'bob')).rejects.toMatchObject({
      code: 'NOT_FOUND',
      message: 'no pipeline named "gone"',
    });
    const started = Date.now();
    await expect(sender.forwardStop('host-nobody', 'orders', 'bob')).rejects.toMatchObject({
      code: 'DAEMON_UNREACHABLE',
      retryable: true,
    });
    expect(Date.now() - started).toBeGreaterThanOrEqual(900);
  });

  test('a host whose listening connection is killed listens again, logging the outage once', async () => {
    let stops = 0;
    const { records } = await listening('host-f', () => {
      stops += 1;
      return { run_id: 'orders-9', stopped: true };
    });
    const { control: sender } = await listening('host-g', () => ({ run_id: null, stopped: false }));
    await pg.query(
      "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'etld control host-f'",
    );
    await waitFor(() => (records.some((r) => /listening again/.test(r.message)) ? true : undefined), {
      timeoutMs: 15_000,
      what: 'host-f to listen again',
    });
    expect(await sender.forwardStop('host-f', 'orders', 'carol')).toEqual({
      run_id: 'orders-9',
      stopped: true,
    });
    expect(stops).toBe(1);
    expect(records.filter((r) => /no connection to the state store/.test(r.message))).toHaveLength(1);
  });
});

interface RunRow {
  sequence: number;
  status: string;
  error_code: string | null;
}

async function runsOf(pipeline: string): Promise<RunRow[]> {
  return pg.query<RunRow>(
    'SELECT sequence::int AS sequence, status, error_code FROM runs WHERE pipeline = $1 ORDER BY sequence, attempt',
    [pipeline],
    'etld_state',
  );
}

test('etlctl stop sent to host B stops the run on host A and says it was forwarded there', async () => {
  // Every read of the source takes 60 s: the run is surely in flight when it is stopped.
  const pipeline = {
    file: 'slow.yaml',
    yaml: ordersPipeline(pg, 'slow', {
      query: 'SELECT o.id, o.amount FROM orders o CROSS JOIN (SELECT pg_sleep(60)) AS s',
    }),
  };
  const url = pg.url('etld_state');
  const a = await launchHost('host-a', fleetHome('host-a', 10, [pipeline]), url);
  hosts.push(a);
  const b = await launchHost('host-b', fleetHome('host-b', 10, [pipeline]), url);
  hosts.push(b);

  const startOnA = async (sequence: number): Promise<void> => {
    const client = await connectWhenListening(a.home.socketPath, 'fleet-control-test');
    try {
      await startWhenReady(client, 'slow');
    } finally {
      await client.close();
    }
    await waitFor(
      async () =>
        (await runsOf('slow')).some((r) => r.sequence === sequence && r.status === 'running')
          ? true
          : undefined,
      { timeoutMs: 30_000, intervalMs: 100, what: `run ${sequence} to be running on host-a` },
    );
  };
  const cancelled = (sequence: number) =>
    waitFor(
      async () => {
        const rows = (await runsOf('slow')).filter((r) => r.sequence === sequence);
        return rows.some((r) => r.status === 'cancelled') ? rows : undefined;
      },
      { timeoutMs: 30_000, intervalMs: 100, what: `run ${sequence} to be cancelled` },
    );

  await startOnA(1);
  const text = await etlctl(['--socket', b.home.socketPath, 'stop', 'slow']);
  expect(text.stderr).toBe('');
  expect(text.code).toBe(0);
  expect(text.stdout.trim()).toBe('stop of slow sent to host host-a: stopped run slow-1');
  expect(await cancelled(1)).toEqual([{ sequence: 1, status: 'cancelled', error_code: 'CANCELLED' }]);
  // Host A stopped it as a local stop does, naming the operator and the host that forwarded it.
  await a.daemon.waitForLine(/stop requested for run slow-1 by .*forwarded by host host-b/, 10_000);

  await startOnA(2);
  const json = await etlctl(['--socket', b.home.socketPath, 'stop', 'slow', '--json']);
  expect(json.code).toBe(0);
  expect(JSON.parse(json.stdout)).toEqual({
    schema: 1,
    run_id: 'slow-2',
    stopped: true,
    forwarded_to: 'host-a',
  });
  expect(await cancelled(2)).toEqual([{ sequence: 2, status: 'cancelled', error_code: 'CANCELLED' }]);

  // Nothing runs anywhere now: nothing is forwarded, and host B says so as before.
  const idle = await etlctl(['--socket', b.home.socketPath, 'stop', 'slow', '--json']);
  expect(JSON.parse(idle.stdout)).toEqual({ schema: 1, run_id: null, stopped: false });
}, 180_000);

test("a second daemon under a running host's fleet.host_name is refused at start-up; the first keeps running", async () => {
  const a = hosts.find((h) => h.name === 'host-a');
  if (a === undefined) throw new Error('host-a is started by the test above');
  const twinHome = fleetHome('host-a', 10, []);
  const twin = spawnDaemon(twinHome.dir, { env: { [STATE_URL_ENV]: pg.url('etld_state') } });
  try {
    // A configuration error: 78, so systemd does not restart it in a loop.
    expect(await twin.exited(30_000)).toBe(78);
    const output = `${twin.lines.join('\n')}\n${twin.stderr()}`;
    expect(output).toMatch(/waiting up to 5334 ms to see whether that daemon is still running/);
    expect(output).toMatch(/fleet\.host_name host-a is in use by another running daemon \(pid \d+/);
  } finally {
    twinHome.remove();
  }
  expect(a.daemon.child.exitCode).toBeNull();
  const listed = await etlctl(['--socket', a.home.socketPath, 'hosts', '--json']);
  expect(listed.code).toBe(0);
  expect(JSON.stringify(JSON.parse(listed.stdout))).toContain('"host":"host-a"');
}, 60_000);
