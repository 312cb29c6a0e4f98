import { spawn } from 'node:child_process';
import { stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ControlServer } from '../../daemon/control/server.js';
import { silentLogger } from '../../daemon/logging/logger.js';
import { METHODS } from '../../shared/protocol.js';
import { FakeApi } from './fake-api.js';
import { RawClient, startTestServer, type TestServer } from './harness.js';

let t: TestServer | undefined;
afterEach(async () => {
  await t?.dispose();
  t = undefined;
});

const warnings = (server: TestServer): string[] =>
  server.records.filter((r) => r.level === 'warning').map((r) => r.message);

/**
 * Waits until the server has let go of the client it warned about (`control client LABEL: …why…`):
 * its "disconnected" record is written on the close, just before the server forgets the client.
 */
async function disconnectionOf(server: TestServer, why: string): Promise<void> {
  const warning = await server.nextRecord(
    (r) => r.level === 'warning' && r.message.includes(why),
    `a warning that a client ${why}`,
  );
  const label = /^control client (\S+):/.exec(warning.message)?.[1];
  expect(label, warning.message).toBeDefined();
  await server.nextRecord(
    (r) => r.message.startsWith(`control client ${label} disconnected`),
    `the server to disconnect ${label} (${why})`,
  );
}

describe('control server: protocol', () => {
  it('answers hello with its version and serves list with a contract-valid result', async () => {
    t = await startTestServer();
    const client = await RawClient.connect({ socketPath: t.socketPath });
    const hello = await client.hello();
    expect(hello).toMatchObject({
      type: 'hello',
      version: 1,
      daemon: { version: '0.1.0-test', host: 'testhost' },
    });
    const reply = await client.request('list');
    expect(METHODS.list.result.parse(reply.result).map((p) => p.name)).toEqual(['orders', 'users']);
    expect(t.server.clientCount).toBe(1);
    client.close();
  });

  it('creates the socket with the configured mode', async () => {
    t = await startTestServer({ socketMode: 0o660 });
    expect((await stat(t.socketPath)).mode & 0o777).toBe(0o660);
  });

  it('refuses requests before hello with an error reply and keeps the connection', async () => {
    t = await startTestServer();
    const client = await RawClient.connect({ socketPath: t.socketPath });
    const early = await client.request('list');
    expect(early.error).toMatchObject({ code: 'PROTOCOL_INVALID' });
    expect(early.error.message).toMatch(/hello/);
    await client.hello();
    expect((await client.request('list')).result).toHaveLength(2);
    expect(warnings(t).some((m) => m.includes('before hello'))).toBe(true);
    client.close();
  });

  it('refuses an incompatible protocol version with a clear error and a close', async () => {
    t = await startTestServer();
    const client = await RawClient.connect({ socketPath: t.socketPath });
    const reply = await client.hello(99);
    expect(reply.error.code).toBe('PROTOCOL_VERSION');
    expect(reply.error.message).toMatch(/protocol 99.*speaks 1/);
    const closed = await client.closed;
    expect(closed.code).toBe(1002);
    expect(closed.reason).toMatch(/PROTOCOL_VERSION/);
  });

  it('answers malformed JSON, binary frames, bad frames, unknown methods and bad params, and keeps serving', async () => {
    t = await startTestServer();
    const client = await RawClient.ready({ socketPath: t.socketPath });
    client.send('{"type": "request", "id": 1, ');
    const malformed = await client.next(
      (f) => f.type === 'reply' && f.error?.message?.startsWith('malformed JSON'),
    );
    expect(malformed).toMatchObject({ id: null, error: { code: 'PROTOCOL_INVALID', retryable: false } });

    client.ws.send(Buffer.from([0, 1, 2, 3]), { binary: true });
    const binary = await client.next((f) => f.type === 'reply' && /binary/.test(f.error?.message ?? ''));
    expect(binary.error.code).toBe('PROTOCOL_INVALID');

    client.send({ type: 'request', id: 'x1', method: 42 });
    expect((await client.next((f) => f.id === 'x1')).error.code).toBe('PROTOCOL_INVALID');

    client.send({ type: 'shout', id: 'x2' });
    expect((await client.next((f) => f.id === 'x2')).error.code).toBe('PROTOCOL_INVALID');

    const unknown = await client.request('drop_all_tables', {});
    expect(unknown.error).toMatchObject({ code: 'UNKNOWN_METHOD' });
    expect(unknown.error.message).toContain('drop_all_tables');

    const badParams = await client.request('history', { pipeline: 'orders', limit: 'ten' });
    expect(badParams.error.code).toBe('PROTOCOL_INVALID');
    expect(badParams.error.message).toMatch(/history.*limit/);

    const missing = await client.request('status', {});
    expect(missing.error.message).toMatch(/pipeline/);

    const regex = await client.request('logs', { follow: true, grep: '([' });
    expect(regex.error.message).toMatch(/invalid grep pattern/);

    expect((await client.request('list')).result).toHaveLength(2);
    expect(warnings(t).length).toBeGreaterThanOrEqual(5);
    client.close();
  });

  it('passes the daemon errors through with their code, and refuses a result that breaks the contract', async () => {
    t = await startTestServer();
    const client = await RawClient.ready({ socketPath: t.socketPath });
    const notFound = await client.request('status', { pipeline: 'nope' });
    expect(notFound.error).toEqual({
      code: 'NOT_FOUND',
      message: 'no pipeline named "nope"',
      retryable: false,
    });
    t.api.brokenInfo = true;
    const broken = await client.request('info');
    expect(broken.error.code).toBe('INTERNAL');
    expect(t.records.some((r) => r.level === 'error' && r.message.includes('"info"'))).toBe(true);
    client.close();
  });

  it('closes a client that sends an oversized frame; other clients keep working', async () => {
    t = await startTestServer({ maxFrameBytes: 4096 });
    const big = await RawClient.ready({ socketPath: t.socketPath });
    const other = await RawClient.ready({ socketPath: t.socketPath });
    big.send({ type: 'request', id: 1, method: 'list', params: { pad: 'x'.repeat(10_000) } });
    expect((await big.closed).code).toBe(1009);
    expect((await other.request('list')).result).toHaveLength(2);
    expect(warnings(t).some((m) => m.includes('larger than the maximum frame size'))).toBe(true);
    other.close();
  });

  it('answers a burst of thousands of garbage frames without flooding the log', async () => {
    t = await startTestServer();
    const noisy = await RawClient.ready({ socketPath: t.socketPath });
    const other = await RawClient.ready({ socketPath: t.socketPath });
    for (let i = 0; i < 3000; i++)
      noisy.send(i % 2 === 0 ? 'not json' : { type: 'request', id: i, method: 'nope' });
    await noisy.next((f) => f.id === 2999);
    expect(noisy.frames.filter((f) => f.type === 'reply' && f.error).length).toBe(3000);
    expect((await other.request('list')).result).toHaveLength(2);
    noisy.close();
    // The summary is written when the server side of the connection closes, after the client's.
    await t.nextRecord(
      (r) => r.message.includes('more bad frames were not logged'),
      'the summary of the bad frames not logged',
    );
    const lines = warnings(t);
    expect(lines.length).toBeLessThanOrEqual(6);
    expect(lines.some((m) => /2995 more bad frames were not logged \(3000 in total\)/.test(m))).toBe(true);
    other.close();
  });

  it('closes a connection that never sends hello, so it cannot hold a client slot', async () => {
    t = await startTestServer({ helloTimeoutMs: 200 });
    const idle = await RawClient.connect({ socketPath: t.socketPath });
    const closed = await idle.closed;
    expect(closed).toEqual({ code: 1008, reason: 'no hello within 200 ms' });
    const greeted = await RawClient.ready({ socketPath: t.socketPath });
    // An observation window, not a wait: past the 200 ms a greeted client must outlive, and no
    // event says that a timer did nothing.
    await new Promise((r) => setTimeout(r, 400));
    expect((await greeted.request('list')).result).toHaveLength(2);
    greeted.close();
  });

  it('refuses clients beyond max_clients with TOO_MANY_CLIENTS', async () => {
    t = await startTestServer({ maxClients: 2 });
    const a = await RawClient.ready({ socketPath: t.socketPath });
    const b = await RawClient.ready({ socketPath: t.socketPath });
    const c = await RawClient.connect({ socketPath: t.socketPath });
    const refusal = await c.next((f) => f.type === 'reply' && f.id === null);
    expect(refusal.error).toMatchObject({ code: 'TOO_MANY_CLIENTS', retryable: true });
    expect((await c.closed).code).toBe(1013);
    expect((await a.request('list')).result).toHaveLength(2);
    a.close();
    b.close();
  });

  it('close() closes clients with a reason and removes the socket', async () => {
    t = await startTestServer();
    const client = await RawClient.ready({ socketPath: t.socketPath });
    await t.server.close();
    const closed = await client.closed;
    expect(closed).toEqual({ code: 1001, reason: 'etld is shutting down' });
    await expect(stat(t.socketPath)).rejects.toThrow(/ENOENT/);
  });
});

describe('control server: events', () => {
  it('forwards only the subscribed topics, filtered by pipeline', async () => {
    t = await startTestServer();
    const all = await RawClient.ready({ socketPath: t.socketPath });
    const ordersRuns = await RawClient.ready({ socketPath: t.socketPath });
    const silent = await RawClient.ready({ socketPath: t.socketPath });
    expect(
      (await all.request('subscribe', { topics: ['runs', 'progress', 'logs', 'pipelines'] })).result.topics,
    ).toHaveLength(4);
    await ordersRuns.request('subscribe', { topics: ['runs'], pipeline: 'orders' });
    const state = (pipeline: string) => ({
      run_id: `${pipeline}-1`,
      attempt_id: `${pipeline}-1-1`,
      pipeline,
      status: 'running' as const,
      attempt: 1,
      at: '2026-03-04T00:00:00Z',
      rows_loaded: 0,
      error: null,
    });
    t.api.events.emit('run.state', state('users'));
    t.api.events.emit('run.state', state('orders'));
    t.api.events.emit('log', {
      ts: '2026-03-04T00:00:00Z',
      level: 'info',
      pipeline: 'orders',
      run_id: null,
      message: 'hello log',
    });
    t.api.events.emit('pipelines.changed', { pipelines: t.api.pipelines });
    await all.next((f) => f.event === 'pipelines.changed');
    const gotOrders = await ordersRuns.next((f) => f.event === 'run.state');
    expect(gotOrders.data.pipeline).toBe('orders');
    expect(all.frames.filter((f) => f.type === 'event').map((f) => f.event)).toEqual([
      'run.state',
      'run.state',
      'log',
      'pipelines.changed',
    ]);
    // The request round trip orders after the earlier events on the same connection.
    await ordersRuns.request('list');
    await silent.request('list');
    expect(ordersRuns.frames.filter((f) => f.type === 'event')).toHaveLength(1);
    expect(silent.frames.filter((f) => f.type === 'event')).toHaveLength(0);

    await all.request('unsubscribe');
    t.api.events.emit('run.state', state('orders'));
    await all.request('list');
    expect(all.frames.filter((f) => f.type === 'event')).toHaveLength(4);
    for (const c of [all, ordersRuns, silent]) c.close();
  });

  it('logs with follow returns the past lines, then forwards matching log lines until unsubscribe', async () => {
    t = await startTestServer();
    const client = await RawClient.ready({ socketPath: t.socketPath });
    const reply = await client.request('logs', {
      pipeline: 'orders',
      follow: true,
      errors_only: true,
      lines: 10,
    });
    expect(reply.result.following).toBe(true);
    expect(reply.result.lines.map((l: { message: string }) => l.message)).toEqual([
      'shard s2 failed: timeout',
    ]);
    const line = (pipeline: string, level: 'info' | 'error', message: string) => ({
      ts: '2026-03-04T11:00:00Z',
      level,
      pipeline,
      run_id: null,
      message,
    });
    t.api.events.emit('log', line('orders', 'info', 'not an error'));
    t.api.events.emit('log', line('users', 'error', 'other pipeline'));
    t.api.events.emit('log', line('orders', 'error', 'live error'));
    const live = await client.next((f) => f.event === 'log');
    expect(live.data.message).toBe('live error');
    await client.request('unsubscribe');
    t.api.events.emit('log', line('orders', 'error', 'after unsubscribe'));
    await client.request('list');
    expect(client.frames.filter((f) => f.event === 'log')).toHaveLength(1);
    client.close();
  });

  it('drops a client that does not read, while the others keep receiving', async () => {
    t = await startTestServer({ maxSendBufferBytes: 64 * 1024 });
    const slow = await RawClient.ready({ socketPath: t.socketPath });
    const fast = await RawClient.ready({ socketPath: t.socketPath });
    await slow.request('subscribe', { topics: ['logs'] });
    await fast.request('subscribe', { topics: ['logs'] });
    // The slow client stops reading its socket: the kernel buffer fills, then the server's.
    (slow.ws as unknown as { _socket: { pause(): void } })._socket.pause();
    let fastClosed = false;
    void fast.closed.then(() => (fastClosed = true));
    const message = 'y'.repeat(2000);
    for (let i = 0; i < 2000; i++) {
      t.api.events.emit('log', {
        ts: '2026-03-04T11:00:00Z',
        level: 'info',
        pipeline: 'orders',
        run_id: null,
        message: `${i} ${message}`,
      });
      // Give the reading client a turn between events, as a real daemon's event loop would.
      await new Promise((r) => setImmediate(r));
    }
    await fast.next((f) => f.event === 'log' && f.data.message.startsWith('1999 '));
    expect(fast.frames.filter((f) => f.event === 'log')).toHaveLength(2000);
    expect(fastClosed).toBe(false);
    expect(warnings(t).filter((m) => m.includes('does not read fast enough'))).toHaveLength(1);
    await disconnectionOf(t, 'does not read fast enough');
    expect(t.server.clientCount).toBe(1);
    expect((await fast.request('list')).result).toHaveLength(2);
    fast.close();
  });

  it('heartbeat disconnects a peer that stopped answering pings', async () => {
    t = await startTestServer({ heartbeatMs: 150 });
    const dead = await RawClient.ready({ socketPath: t.socketPath });
    const alive = await RawClient.ready({ socketPath: t.socketPath });
    (dead.ws as unknown as { _socket: { pause(): void } })._socket.pause();
    await disconnectionOf(t, 'no answer to the heartbeat');
    expect(t.server.clientCount).toBe(1);
    expect(warnings(t).some((m) => m.includes('no answer to the heartbeat'))).toBe(true);
    expect((await alive.request('list')).result).toHaveLength(2);
    alive.close();
  });
});

describe('control server: socket file', () => {
  it('replaces a stale socket left by a crash', async () => {
    t = await startTestServer();
    const socketPath = t.socketPath;
    await t.server.close();
    // A real crash: another process listens on the path and is killed with SIGKILL.
    const child = spawn(process.execPath, [
      '-e',
      `require('net').createServer().listen(${JSON.stringify(socketPath)}, () => console.log('ready'))`,
    ]);
    await new Promise<void>((resolve) => child.stdout.once('data', () => resolve()));
    child.kill('SIGKILL');
    await new Promise((resolve) => child.once('exit', resolve));
    expect((await stat(socketPath)).isSocket()).toBe(true);
    const server = new ControlServer({ ...baseOptions(socketPath) });
    await server.start();
    const client = await RawClient.ready({ socketPath });
    expect((await client.request('list')).result).toHaveLength(2);
    client.close();
    await server.close();
  });

  it('never steals the socket of a live daemon, nor replaces a file that is not a socket', async () => {
    t = await startTestServer();
    const second = new ControlServer(baseOptions(t.socketPath));
    await expect(second.start()).rejects.toMatchObject({
      code: 'LOCKED',
      message: expect.stringContaining(t.socketPath),
    });
    const client = await RawClient.ready({ socketPath: t.socketPath });
    expect((await client.request('list')).result).toHaveLength(2);
    client.close();

    const plain = join(t.dir, 'not-a-socket');
    await writeFile(plain, 'precious');
    const third = new ControlServer(baseOptions(plain));
    await expect(third.start()).rejects.toMatchObject({
      code: 'LOCKED',
      message: expect.stringContaining('not a socket'),
    });
  });
});

function baseOptions(socketPath: string): ConstructorParameters<typeof ControlServer>[0] {
  return {
    api: new FakeApi(),
    socketPath,
    socketMode: 0o600,
    maxClients: 10,
    maxFrameBytes: 65536,
    maxSendBufferBytes: 1 << 20,
    heartbeatMs: 60_000,
    logger: silentLogger,
    daemonInfo: { version: 'x', host: 'h', pid: 1 },
  };
}
