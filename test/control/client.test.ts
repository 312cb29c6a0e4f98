import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocketServer } from 'ws';
import { ControlServer } from '../../daemon/control/server.js';
import { silentLogger } from '../../daemon/logging/logger.js';
import { connectClient } from '../../shared/client/ws-client.js';
import type { ConnectionState } from '../../shared/client/client.js';
import { nextEvent } from '../helpers/wait.js';
import { startTestServer, type TestServer } from './harness.js';

let t: TestServer | undefined;
afterEach(async () => {
  await t?.dispose();
  t = undefined;
});

describe('client library', () => {
  it('makes typed calls, validates results and passes daemon errors with their code', async () => {
    t = await startTestServer();
    const client = await connectClient({ socketPath: t.socketPath, clientName: 'test' });
    expect(client.state).toBe('connected');
    const history = await client.call('history', { pipeline: 'orders', limit: 2 });
    expect(history.map((r) => r.status)).toEqual(['succeeded', 'failed']);
    await expect(client.call('status', { pipeline: 'ghost' })).rejects.toMatchObject({
      code: 'NOT_FOUND',
      message: 'no pipeline named "ghost"',
    });
    await client.close();
    expect(client.state).toBe('closed');
    await expect(client.call('list')).rejects.toMatchObject({ code: 'DAEMON_UNREACHABLE' });
  });

  it('names the socket it tried when the daemon is not there', async () => {
    const path = '/tmp/etld-no-such-dir/run/etld.sock';
    await expect(connectClient({ socketPath: path, clientName: 'test' })).rejects.toMatchObject({
      code: 'DAEMON_UNREACHABLE',
      message: `cannot reach etld at ${path}: no socket there`,
    });
  });

  it('rejects pending calls on disconnect, then reconnects and subscribes again', async () => {
    t = await startTestServer();
    t.api.listDelayMs = 5_000;
    const states: ConnectionState[] = [];
    const client = await connectClient({
      socketPath: t.socketPath,
      clientName: 'test',
      reconnect: { attempts: 20, initialDelayMs: 50, maxDelayMs: 200 },
      subscribe: { topics: ['runs'] },
    });
    client.onState((state) => states.push(state));
    const received: string[] = [];
    client.onEvent('run.state', (data) => received.push(data.run_id));
    const pending = expect(client.call('list')).rejects.toMatchObject({ code: 'DAEMON_UNREACHABLE' });
    // The daemon restarts: a new server takes over the same socket path.
    await t.server.close();
    await pending;
    const api = t.api;
    api.listDelayMs = 0;
    const second = new ControlServer({
      api,
      socketPath: t.socketPath,
      socketMode: 0o600,
      maxClients: 5,
      maxFrameBytes: 65536,
      maxSendBufferBytes: 1 << 20,
      heartbeatMs: 60_000,
      logger: silentLogger,
      daemonInfo: { version: 'x', host: 'h', pid: 1 },
    });
    const reconnected = nextEvent<ConnectionState>((listener) => client.onState(listener), 'the reconnect', {
      accept: (state) => state === 'connected',
    });
    await second.start();
    await reconnected;
    expect(states).toContain('connecting');
    // The client sends its subscription again right after the hello, and the server handles one
    // connection's requests in order: once a later call is answered, the subscription is in place.
    await client.call('list');
    expect(second.clientCount).toBe(1);
    // Events arrive without asking.
    const arrived = nextEvent<string>(
      (listener) => client.onEvent('run.state', (data) => listener(data.run_id)),
      'the run.state event after the restart',
    );
    api.events.emit('run.state', {
      run_id: 'after-restart',
      attempt_id: 'after-restart-1',
      pipeline: 'orders',
      status: 'running',
      attempt: 1,
      at: '2026-03-04T00:00:00Z',
      rows_loaded: 0,
      error: null,
    });
    await arrived;
    expect(received).toEqual(['after-restart']);
    await client.close();
    await second.close();
  });

  it('gives up after the bounded number of reconnect attempts', async () => {
    t = await startTestServer();
    const client = await connectClient({
      socketPath: t.socketPath,
      clientName: 'test',
      reconnect: { attempts: 2, initialDelayMs: 20, maxDelayMs: 40 },
    });
    const finalState = new Promise<string | null>((resolve) =>
      client.onState((state, detail) => state === 'disconnected' && resolve(detail)),
    );
    await t.server.close();
    expect(await finalState).toMatch(/cannot reach etld at .*etld\.sock/);
    await client.close();
  });

  it('refuses a daemon that speaks another protocol version', async () => {
    const wss = new WebSocketServer({ port: 0, host: '127.0.0.1' });
    wss.on('connection', (ws) =>
      ws.on('message', () =>
        ws.send(JSON.stringify({ type: 'hello', version: 2, daemon: { version: '9', host: 'h', pid: 1 } })),
      ),
    );
    await new Promise((r) => wss.once('listening', r));
    const port = (wss.address() as { port: number }).port;
    await expect(
      connectClient({ url: `ws://127.0.0.1:${port}`, token: 't', clientName: 'test' }),
    ).rejects.toMatchObject({ code: 'PROTOCOL_VERSION' });
    await new Promise((r) => wss.close(r));
  });

  it('reports a daemon-side refusal (too many clients) with its code', async () => {
    t = await startTestServer({ maxClients: 1 });
    const first = await connectClient({ socketPath: t.socketPath, clientName: 'a' });
    await expect(connectClient({ socketPath: join(t.socketPath), clientName: 'b' })).rejects.toMatchObject({
      code: 'TOO_MANY_CLIENTS',
    });
    await first.close();
  });
});
