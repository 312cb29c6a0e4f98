import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { assertCliBuilt, etlctl } from '../cli/cli-harness.js';
import { makeTempHome, spawnDaemon, type DaemonProcess, type TempHome } from '../helpers/daemon-process.js';
import { freePort } from '../helpers/free-port.js';
import { waitFor } from '../helpers/process.js';
import { RawClient } from './harness.js';

// Issue 3's acceptance, against a spawned etld: list --json per contract, 200 subscribed clients
// keep receiving events while another client sends garbage, and an unauthenticated TCP client is refused.
let home: TempHome;
let daemon: DaemonProcess;
let port: number;
const TOKEN = 'acceptance-token-7f3a';

beforeAll(async () => {
  assertCliBuilt();
  home = makeTempHome('etld-ctl-acc-');
  port = await freePort();
  writeFileSync(join(home.dir, 'token'), `${TOKEN}\n`, { mode: 0o600 });
  home.writeSettings(
    `control: { tcp: { listen: "127.0.0.1:${port}", token_file: ${join(home.dir, 'token')} }, max_clients: 400 }\n`,
  );
  await etlctl([
    'generate',
    'orders',
    '--source',
    'postgres',
    '--dest',
    'duckdb',
    '-o',
    join(home.dir, 'pipelines', 'orders.yaml'),
  ]);
  daemon = spawnDaemon(home.dir);
  await waitFor(() => (existsSync(home.socketPath) ? true : undefined), {
    timeoutMs: 60_000,
    what: 'the control socket',
  });
  await daemon.waitForLine(/etld running/, 60_000);
});

afterAll(async () => {
  await daemon?.stop();
  home?.remove();
});

describe('control socket of a spawned etld', () => {
  it('etlctl list --json parses as the contract says', async () => {
    const r = await etlctl(['--home', home.dir, 'list', '--json']);
    expect(r.code).toBe(0);
    const { pipelines: list } = z
      .object({
        schema: z.literal(1),
        pipelines: z.array(
          z.object({
            name: z.string(),
            state: z.enum(['idle', 'running', 'retrying', 'paused', 'failed', 'invalid', 'waiting']),
            paused: z.boolean(),
            schedule: z.string().nullable(),
            next_run_at: z.string().nullable(),
            last_run: z.object({ id: z.string() }).passthrough().nullable(),
          }),
        ),
      })
      .parse(JSON.parse(r.stdout));
    expect(list).toEqual([
      expect.objectContaining({ name: 'orders', paused: false, schedule: '0 */2 * * *' }),
    ]);
  });

  it('etlctl hosts --json: a daemon alone is a fleet of one, alive; its idle pipeline has no host', async () => {
    const info = (await etlctl(['--home', home.dir, 'info', '--json'])).stdout;
    const { host, pid, version } = JSON.parse(info) as { host: string; pid: number; version: string };
    const r = await etlctl(['--home', home.dir, 'hosts', '--json']);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual({
      schema: 1,
      fleet: false,
      this_host: host,
      hosts: [
        {
          host,
          pid,
          version,
          started_at: expect.any(String) as unknown,
          heartbeat_at: expect.any(String) as unknown,
          health: 'alive',
          running: [],
        },
      ],
    });
    const list = JSON.parse((await etlctl(['--home', home.dir, 'list', '--json'])).stdout) as {
      pipelines: { name: string; host: string | null }[];
    };
    expect(list.pipelines).toEqual([expect.objectContaining({ name: 'orders', host: null })]);
  });

  it('200 subscribed clients keep receiving events while another client sends garbage', async () => {
    const clients: RawClient[] = [];
    for (let i = 0; i < 200; i++) {
      const client = await RawClient.ready({ socketPath: home.socketPath });
      await client.request('subscribe', { topics: ['pipelines'] });
      clients.push(client);
    }
    const garbage = await RawClient.ready({ socketPath: home.socketPath });
    const driver = await RawClient.ready({ socketPath: home.socketPath });
    const toggles = 5;
    for (let i = 0; i < toggles; i++) {
      for (let g = 0; g < 200; g++)
        garbage.send(
          g % 2 === 0 ? '{"type":"request",' : { type: 'request', id: g, method: 'no_such_method' },
        );
      expect((await driver.request('pause', { pipeline: 'orders' })).result).toEqual({
        pipeline: 'orders',
        paused: true,
      });
      expect((await driver.request('resume', { pipeline: 'orders' })).result).toEqual({
        pipeline: 'orders',
        paused: false,
      });
    }
    const pausedSeen = (c: RawClient): boolean[] =>
      c.frames
        .filter((f) => f.event === 'pipelines.changed')
        .map((f) => Boolean(f.data.pipelines.find((p: { name: string }) => p.name === 'orders')?.paused));
    await waitFor(
      () =>
        clients.every(
          (c) => pausedSeen(c).filter(Boolean).length >= toggles && pausedSeen(c).at(-1) === false,
        )
          ? true
          : undefined,
      {
        timeoutMs: 60_000,
        what: 'every client to see every pause and the final resume',
      },
    );
    expect(garbage.frames.filter((f) => f.error?.code === 'UNKNOWN_METHOD')).toHaveLength(toggles * 100);
    expect(garbage.frames.filter((f) => f.error?.code === 'PROTOCOL_INVALID')).toHaveLength(toggles * 100);
    // The daemon is still healthy for everyone.
    expect((await driver.request('info')).result.state).toBe('running');
    for (const client of [...clients, garbage, driver]) client.close();
  });

  it('refuses an unauthenticated or wrongly authenticated TCP client and accepts the token', async () => {
    const url = `ws://127.0.0.1:${port}/`;
    await expect(RawClient.connect({ url })).rejects.toThrow(/HTTP 401/);
    await expect(RawClient.connect({ url, token: 'guess' })).rejects.toThrow(/HTTP 401/);
    const ok = await RawClient.ready({ url, token: TOKEN });
    expect((await ok.request('list')).result[0].name).toBe('orders');
    ok.close();
    await daemon.waitForLine(/control connection from 127\.0\.0\.1:\d+ refused: no bearer token/);
    expect(daemon.lines.join('\n')).not.toContain(TOKEN);
  });
});
