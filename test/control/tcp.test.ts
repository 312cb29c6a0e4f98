import { afterEach, describe, expect, it } from 'vitest';
import { bearerMatches } from '../../daemon/control/server.js';
import { connectClient } from '../../shared/client/ws-client.js';
import { RawClient, startTestServer, type TestServer } from './harness.js';

let t: TestServer | undefined;
afterEach(async () => {
  await t?.dispose();
  t = undefined;
});

const TOKEN = 's3cret-token-0123456789';

describe('control server: TCP listener', () => {
  it('refuses a connection without a token or with a wrong one, and logs it without the token', async () => {
    t = await startTestServer({ tcp: { host: '127.0.0.1', port: 0, token: TOKEN } });
    const url = `ws://127.0.0.1:${t.server.tcpAddress!.port}/`;
    await expect(RawClient.connect({ url })).rejects.toThrow(/HTTP 401/);
    await expect(RawClient.connect({ url, token: 'wrong' })).rejects.toThrow(/HTTP 401/);
    await expect(RawClient.connect({ url, token: `${TOKEN}x` })).rejects.toThrow(/HTTP 401/);
    const lines = t.records.filter((r) => r.message.includes('refused')).map((r) => r.message);
    expect(lines).toHaveLength(3);
    expect(lines[0]).toMatch(/127\.0\.0\.1:\d+ refused: no bearer token/);
    expect(lines[1]).toMatch(/wrong bearer token/);
    expect(lines.join('\n')).not.toContain(TOKEN);
    expect(t.server.clientCount).toBe(0);

    const ok = await RawClient.ready({ url, token: TOKEN });
    expect((await ok.request('list')).result).toHaveLength(2);
    ok.close();
  });

  it('the client library reports UNAUTHORIZED for a wrong token and works with the right one', async () => {
    t = await startTestServer({ tcp: { host: '127.0.0.1', port: 0, token: TOKEN } });
    const url = `ws://127.0.0.1:${t.server.tcpAddress!.port}`;
    await expect(connectClient({ url, token: 'nope', clientName: 'test' })).rejects.toMatchObject({
      code: 'UNAUTHORIZED',
    });
    const client = await connectClient({ url, token: TOKEN, clientName: 'test' });
    expect((await client.call('info')).host).toBe('testhost');
    await client.close();
  });

  it('a plain HTTP request gets 426, not a crash', async () => {
    t = await startTestServer({ tcp: { host: '127.0.0.1', port: 0, token: TOKEN } });
    const res = await fetch(`http://127.0.0.1:${t.server.tcpAddress!.port}/`);
    expect(res.status).toBe(426);
  });

  it('bearerMatches compares whole tokens only', () => {
    expect(bearerMatches(`Bearer ${TOKEN}`, TOKEN)).toBe(true);
    expect(bearerMatches(`bearer ${TOKEN}`, TOKEN)).toBe(true);
    expect(bearerMatches(`Bearer ${TOKEN.slice(0, -1)}`, TOKEN)).toBe(false);
    expect(bearerMatches(`Basic ${TOKEN}`, TOKEN)).toBe(false);
    expect(bearerMatches('Bearer ', TOKEN)).toBe(false);
    expect(bearerMatches(undefined, TOKEN)).toBe(false);
    expect(bearerMatches('Bearer ', '')).toBe(false);
  });
});
