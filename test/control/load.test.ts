import { afterEach, describe, expect, it } from 'vitest';
import { RawClient, startTestServer, type TestServer } from './harness.js';

let t: TestServer | undefined;
afterEach(async () => {
  await t?.dispose();
  t = undefined;
});

describe('control server under load', () => {
  it('200 subscribed clients keep receiving events while another client sends garbage', async () => {
    t = await startTestServer({ maxClients: 256 });
    const clients: RawClient[] = [];
    for (let i = 0; i < 200; i++) {
      const client = await RawClient.ready({ socketPath: t.socketPath });
      await client.request('subscribe', { topics: ['runs', 'progress'] });
      clients.push(client);
    }
    const garbage = await RawClient.ready({ socketPath: t.socketPath });
    const events = 20;
    for (let i = 0; i < events; i++) {
      for (let g = 0; g < 50; g++)
        garbage.send(
          g % 3 === 0
            ? '\u0000\u0001garbage'
            : g % 3 === 1
              ? { type: 'request', id: g, method: 'list', params: 7 }
              : '[]',
        );
      t.api.events.emit('run.state', {
        run_id: `r${i}`,
        attempt_id: `r${i}-1`,
        pipeline: 'orders',
        status: 'running',
        attempt: 1,
        at: '2026-03-04T00:00:00Z',
        rows_loaded: i,
        error: null,
      });
      await new Promise((r) => setImmediate(r));
    }
    await Promise.all(
      clients.map((c) =>
        c.next((f) => f.event === 'run.state' && f.data.run_id === `r${events - 1}`, 60_000),
      ),
    );
    for (const client of clients) {
      expect(client.frames.filter((f) => f.event === 'run.state').map((f) => f.data.rows_loaded)).toEqual([
        ...Array(events).keys(),
      ]);
    }
    expect(t.server.clientCount).toBe(201);
    expect(garbage.frames.filter((f) => f.error?.code === 'PROTOCOL_INVALID').length).toBeGreaterThan(0);
    for (const client of [...clients, garbage]) client.close();
  });
});
