/**
 * The read-only role against a spawned etld, with real WebSocket clients: the read-only socket
 * (etld-ro.sock) and the read-only TCP token may list, read status, history and logs, but every
 * call that changes state is refused with READ_ONLY, and the daemon's state is untouched; the
 * operator socket and token keep full access. One test walks the protocol's method table, so a new
 * method cannot be added without saying whether it mutates, and the server must enforce exactly that.
 */
import { statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DaemonClient } from '../../shared/client/client.js';
import { connectClient } from '../../shared/client/ws-client.js';
import { isEtlError } from '../../shared/errors.js';
import {
  callMutates,
  METHODS,
  type MethodName,
  type MethodParams,
  type MethodParamsInput,
} from '../../shared/protocol.js';
import { assertCliBuilt, etlctl } from '../cli/cli-harness.js';
import { makeTempHome, spawnDaemon, type DaemonProcess, type TempHome } from '../helpers/daemon-process.js';
import { freePort } from '../helpers/free-port.js';
import { waitFor } from '../helpers/process.js';
import { RawClient } from './harness.js';

const OPERATOR_TOKEN = 'operator-token-5b1e';
const READ_ONLY_TOKEN = 'read-only-token-90c2';

let home: TempHome;
let daemon: DaemonProcess;
let port: number;
let roSocket: string;
const clients: DaemonClient[] = [];

function pipelineYaml(name: string, sourcePort: number): string {
  // Nothing listens on the source port: runs fail fast, which is all these tests need of them.
  return `name: ${name}
timezone: UTC
source:
  type: postgres
  connection: { host: 127.0.0.1, port: ${sourcePort}, database: shop, user: etl }
  table: public.${name}
load: { mode: full }
destination: { type: duckdb, path: ${name}.duckdb, table: ${name} }
error_handling: { max_retries: 0 }
`;
}

async function client(
  target: { socketPath: string } | { url: string; token: string },
): Promise<DaemonClient> {
  const connected = await connectClient({ ...target, clientName: 'read-only-test', reconnect: false });
  clients.push(connected);
  return connected;
}

/** The error code a call ends with, or `ok`. */
async function outcome(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
    return 'ok';
  } catch (error) {
    return isEtlError(error) ? error.code : String(error);
  }
}

beforeAll(async () => {
  assertCliBuilt();
  home = makeTempHome('etld-read-only-');
  port = await freePort();
  const sourcePort = await freePort();
  writeFileSync(join(home.dir, 'token'), `${OPERATOR_TOKEN}\n`, { mode: 0o600 });
  home.writeSettings(
    [
      'control:',
      `  readonly_socket: { mode: "0640", group: ${process.getgid?.() ?? 0} }`,
      `  tcp: { listen: "127.0.0.1:${port}", token_file: ${join(home.dir, 'token')}, readonly_token_env: ETLD_TEST_RO_TOKEN }`,
      '',
    ].join('\n'),
  );
  home.writePipeline('orders.yaml', pipelineYaml('orders', sourcePort));
  home.writePipeline('customers.yaml', pipelineYaml('customers', sourcePort));
  daemon = spawnDaemon(home.dir, { env: { ETLD_TEST_RO_TOKEN: READ_ONLY_TOKEN } });
  await daemon.waitForLine(/etld running/, 60_000);
  roSocket = join(home.dir, 'run', 'etld-ro.sock');
});

afterAll(async () => {
  for (const c of clients.splice(0)) await c.close();
  await daemon?.stop();
  home?.remove();
});

const url = (): string => `ws://127.0.0.1:${port}`;

/**
 * Every method of the protocol with params that exercise each branch of its `mutates` rule, and
 * what that rule must say. Typed over MethodName: a method added to the protocol does not compile
 * here until it is listed, and its entry states whether it changes the daemon's state.
 */
type Expected = {
  readonly [M in MethodName]: readonly { readonly params: MethodParamsInput<M>; readonly mutates: boolean }[];
};
const EXPECTED: Expected = {
  list: [{ params: {}, mutates: false }],
  status: [{ params: { pipeline: 'orders' }, mutates: false }],
  info: [{ params: {}, mutates: false }],
  hosts: [{ params: {}, mutates: false }],
  start: [{ params: { pipeline: 'orders' }, mutates: true }],
  stop: [{ params: { pipeline: 'orders' }, mutates: true }],
  pause: [{ params: { pipeline: 'orders' }, mutates: true }],
  resume: [{ params: { pipeline: 'orders' }, mutates: true }],
  history: [{ params: { pipeline: 'orders' }, mutates: false }],
  tables: [{ params: { pipeline: 'orders' }, mutates: false }],
  run: [{ params: { run_id: 'orders-1' }, mutates: false }],
  logs: [
    { params: { pipeline: 'orders' }, mutates: false },
    { params: { follow: true, lines: 1 }, mutates: false },
  ],
  reload: [{ params: {}, mutates: true }],
  validate: [{ params: { sources: false }, mutates: false }],
  why: [{ params: { pipeline: 'orders' }, mutates: false }],
  plan: [{ params: { pipeline: 'orders' }, mutates: false }],
  preview: [{ params: { pipeline: 'orders', limit: 1 }, mutates: false }],
  watermark: [
    { params: { pipeline: 'orders', action: 'show' }, mutates: false },
    { params: { pipeline: 'orders' }, mutates: false },
    { params: { pipeline: 'orders', action: 'set', value: '2026-01-01' }, mutates: true },
    { params: { pipeline: 'orders', action: 'reset' }, mutates: true },
  ],
  vacuum: [
    { params: { pipeline: 'orders', dry_run: true }, mutates: false },
    { params: { pipeline: 'orders' }, mutates: true },
  ],
  pipeline_file: [{ params: { pipeline: 'orders' }, mutates: false }],
  files: [
    { params: { pipeline: 'orders' }, mutates: false },
    { params: { pipeline: 'orders', status: 'quarantined', after: 'a.csv', text: 'x' }, mutates: false },
  ],
  files_pending: [
    { params: { pipeline: 'orders' }, mutates: false },
    { params: { pipeline: 'orders', limit: 5 }, mutates: false },
  ],
  files_forget: [
    { params: { pipeline: 'orders', keys: ['a.csv'] }, mutates: true },
    { params: { pipeline: 'orders', all: true }, mutates: true },
  ],
  runs: [{ params: {}, mutates: false }],
  changes: [{ params: { pipeline: 'orders' }, mutates: false }],
  backfill: [{ params: { pipeline: 'orders', from: '1', to: '2' }, mutates: true }],
  problems: [{ params: {}, mutates: false }],
  alerts: [{ params: {}, mutates: false }],
  subscribe: [{ params: { topics: ['runs'] }, mutates: false }],
  unsubscribe: [{ params: {}, mutates: false }],
  test: [{ params: { pipeline: 'orders' }, mutates: false }],
};

function cases(): { method: MethodName; params: unknown; mutates: boolean }[] {
  return (Object.keys(METHODS) as MethodName[]).flatMap((method) =>
    EXPECTED[method].map((entry) => ({ method, params: entry.params, mutates: entry.mutates })),
  );
}

describe('the read-only role of a spawned etld', () => {
  it('the read-only socket: hello says read-only; reads work; every change is refused and nothing changes', async () => {
    const ro = await client({ socketPath: roSocket });
    expect(ro.role).toBe('read-only');
    expect((await ro.call('list')).map((p) => p.name).sort()).toEqual(['customers', 'orders']);
    expect((await ro.call('status', { pipeline: 'orders' })).name).toBe('orders');
    expect(await ro.call('history', { pipeline: 'orders' })).toEqual([]);
    expect((await ro.call('logs', { lines: 10 })).following).toBe(false);
    expect((await ro.call('pipeline_file', { pipeline: 'orders' })).text).toContain('name: orders');
    expect((await ro.call('info')).state).toBe('running');

    for (const method of ['start', 'stop', 'pause', 'resume'] as const) {
      const refused = ro.call(method, { pipeline: 'orders' });
      await expect(refused).rejects.toMatchObject({ code: 'READ_ONLY', retryable: false });
      await expect(refused).rejects.toThrow(
        new RegExp(
          `^this connection is read-only \\(the read-only socket ${roSocket.replace(/[.]/g, '\\.')}\\) and "${method}" changes the daemon's state`,
        ),
      );
    }
    await expect(ro.call('reload')).rejects.toMatchObject({ code: 'READ_ONLY' });
    await expect(ro.call('watermark', { pipeline: 'orders', action: 'reset' })).rejects.toMatchObject({
      code: 'READ_ONLY',
    });

    // Nothing happened: no run was started, nothing was paused.
    const orders = (await ro.call('list')).find((p) => p.name === 'orders');
    expect(orders).toMatchObject({ paused: false, last_run: null });
    expect(await ro.call('runs')).toEqual([]);
    // The daemon logged the refusals, naming the read-only client.
    await daemon.waitForLine(/control client unix-ro#\d+ \(read-only\): "start" refused/);
  });

  it('the read-only token on TCP is read-only; the operator token and the operator socket change things', async () => {
    await expect(RawClient.connect({ url: url() })).rejects.toThrow(/HTTP 401/);
    await expect(RawClient.connect({ url: url(), token: 'guess' })).rejects.toThrow(/HTTP 401/);
    const raw = await RawClient.connect({ url: url(), token: READ_ONLY_TOKEN });
    expect(await raw.hello()).toMatchObject({ type: 'hello', role: 'read-only' });
    const refusal = await raw.request('pause', { pipeline: 'customers' });
    expect(refusal.error).toMatchObject({ code: 'READ_ONLY', retryable: false });
    expect(refusal.error.message).toContain('it presented the read-only token');
    raw.close();

    const viaToken = await client({ url: url(), token: OPERATOR_TOKEN });
    expect(viaToken.role).toBe('operator');
    expect(await viaToken.call('pause', { pipeline: 'customers' })).toEqual({
      pipeline: 'customers',
      paused: true,
    });
    const viaSocket = await client({ socketPath: home.socketPath });
    expect(viaSocket.role).toBe('operator');
    expect((await viaSocket.call('resume', { pipeline: 'customers' })).paused).toBe(false);
    const started = await viaSocket.call('start', { pipeline: 'customers' });
    expect(started.run_id).toMatch(/^customers-\d+$/);
    // The read-only side sees what the operator did.
    const ro = await client({ url: url(), token: READ_ONLY_TOKEN });
    await waitFor(
      async () => ((await ro.call('runs')).some((r) => r.id === started.run_id) ? true : undefined),
      { timeoutMs: 30_000, what: 'the started run in runs' },
    );
  });

  it('every method of the protocol table: its mutates rule as declared, enforced on both read-only doors', async () => {
    for (const c of cases()) {
      const spec = METHODS[c.method];
      const parsed = spec.params.parse(c.params) as MethodParams<typeof c.method>;
      expect({ method: c.method, params: c.params, mutates: callMutates(c.method, parsed) }).toEqual({
        method: c.method,
        params: c.params,
        mutates: c.mutates,
      });
    }
    const doors = [
      await client({ socketPath: roSocket }),
      await client({ url: url(), token: READ_ONLY_TOKEN }),
    ];
    for (const door of doors) {
      for (const c of cases()) {
        const code = await outcome(
          door.call(c.method, c.params as MethodParamsInput<typeof c.method>, { timeoutMs: 60_000 }),
        );
        // A read call may fail for its own reasons (the source is down); it is never refused.
        if (c.mutates) expect({ ...c, code }).toEqual({ ...c, code: 'READ_ONLY' });
        else expect({ ...c, code }).not.toEqual({ ...c, code: 'READ_ONLY' });
      }
    }
    const orders = (await doors[0]!.call('list')).find((p) => p.name === 'orders');
    expect(orders).toMatchObject({ paused: false, last_run: null });
  });

  it('the read-only socket has the configured mode and group, beside the operator socket', () => {
    const ro = statSync(roSocket);
    expect(ro.isSocket()).toBe(true);
    expect(ro.mode & 0o777).toBe(0o640);
    expect(ro.gid).toBe(process.getgid?.() ?? 0);
    expect(statSync(home.socketPath).mode & 0o777).toBe(0o660);
  });

  it('etlctl marks a read-only connection and says why a change is refused', async () => {
    const list = await etlctl(['--socket', roSocket, 'list']);
    expect(list.code).toBe(0);
    expect(list.stdout).toContain('orders');
    expect(list.stderr).toContain('etlctl: [read-only] this connection can look but not change anything');
    const json = await etlctl(['--socket', roSocket, 'list', '--json']);
    expect(json.stderr).toBe('');

    const pause = await etlctl(['--socket', roSocket, 'pause', 'orders']);
    expect(pause.code).toBe(1);
    expect(pause.stderr).toMatch(
      /etlctl: \[read-only\] this connection is read-only \(the read-only socket .*etld-ro\.sock\) and "pause" changes the daemon's state; connect through the operator socket or with the operator token/,
    );
    const jsonPause = await etlctl(['--socket', roSocket, 'pause', 'orders', '--json']);
    expect(JSON.parse(jsonPause.stderr)).toMatchObject({ error: { code: 'READ_ONLY', retryable: false } });
  });
});
