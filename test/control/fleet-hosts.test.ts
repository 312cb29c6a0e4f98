/**
 * The fleet on the control socket: `hosts` and the `host` of each pipeline in `list`, as the
 * daemon derives them from its fleet coordinator (fleet-commands.ts, with a coordinator double),
 * and the `hosts` result validated on both sides of the socket.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { fleetHosts, withRunHosts } from '../../daemon/control/fleet-commands.js';
import { connectClient } from '../../shared/client/ws-client.js';
import { METHODS, type MethodResult, type PipelineSummary } from '../../shared/protocol.js';
import { fleetDouble, fleetHost } from './fleet-double.js';
import { RawClient, startTestServer, type TestServer } from './harness.js';

let t: TestServer | undefined;
afterEach(async () => {
  await t?.dispose();
  t = undefined;
});

function summary(name: string, state: PipelineSummary['state']): PipelineSummary {
  return {
    name,
    state,
    paused: false,
    schedule: null,
    schedule_human: null,
    timezone: 'UTC',
    next_run_at: null,
    last_run: null,
    description: null,
    source: null,
    destination: null,
    mode: null,
    file: `/etc/etld/pipelines/${name}.yaml`,
    problems: [],
  };
}

const SUMMARIES = [
  summary('orders', 'running'),
  summary('refunds', 'retrying'),
  summary('users', 'idle'),
  summary('stock', 'waiting'),
];

describe('the fleet as the daemon reports it', () => {
  it('hosts: every host the coordinator knows, snake_case, valid against the protocol', () => {
    const fleet = fleetDouble({
      host: 'etl-a',
      shared: true,
      hosts: [
        fleetHost('etl-a', { pid: 11, running: ['orders'] }),
        fleetHost('etl-b', { pid: 22, health: 'lost', heartbeatAt: '2026-03-04T11:00:00.000Z' }),
        fleetHost('etl-c', { health: 'stopped' }),
      ],
    });
    const answer = fleetHosts(fleet);
    expect(METHODS.hosts.result.parse(answer)).toEqual(answer);
    expect(answer).toMatchObject({ fleet: true, this_host: 'etl-a' });
    expect(answer.hosts[0]).toEqual({
      host: 'etl-a',
      pid: 11,
      version: '0.1.0-test',
      started_at: '2026-03-04T00:00:00.000Z',
      heartbeat_at: '2026-03-04T12:00:00.000Z',
      health: 'alive',
      running: ['orders'],
    });
    expect(answer.hosts.map((h) => [h.host, h.health])).toEqual([
      ['etl-a', 'alive'],
      ['etl-b', 'lost'],
      ['etl-c', 'stopped'],
    ]);
  });

  it('a shared store: the lease holder of each pipeline with a run under way, asked for no other', () => {
    const fleet = fleetDouble({
      host: 'etl-a',
      shared: true,
      holders: { orders: 'etl-b', refunds: 'etl-a', users: 'etl-c' },
    });
    const hosts = withRunHosts(SUMMARIES, fleet, () => true).map((s) => [s.name, s.host]);
    expect(hosts).toEqual([
      ['orders', 'etl-b'],
      ['refunds', 'etl-a'],
      ['users', null],
      ['stock', null],
    ]);
    expect(fleet.asked).toEqual(['orders', 'refunds']);
  });

  it('a running pipeline whose lease expired has no host', () => {
    const fleet = fleetDouble({ host: 'etl-a', shared: true });
    expect(withRunHosts([summary('orders', 'running')], fleet, () => true)[0]?.host).toBeNull();
  });

  it('a host alone: its active runs are its own, and the coordinator is not asked', () => {
    const fleet = fleetDouble({ host: 'solo', shared: false, holders: { users: 'elsewhere' } });
    const active = new Set(['orders', 'stock']);
    const hosts = withRunHosts(SUMMARIES, fleet, (name) => active.has(name)).map((s) => [s.name, s.host]);
    expect(hosts).toEqual([
      ['orders', 'solo'],
      ['refunds', null],
      ['users', null],
      ['stock', 'solo'],
    ]);
    expect(fleet.asked).toEqual([]);
  });
});

describe('the hosts result on the wire', () => {
  it('the daemon refuses to send a hosts result that breaks the contract (INTERNAL)', async () => {
    t = await startTestServer();
    const client = await RawClient.ready({ socketPath: t.socketPath });
    expect((await client.request('hosts')).result).toEqual(t.api.fleet);
    t.api.fleet = {
      ...t.api.fleet,
      hosts: [{ ...fleetHostEntry(), health: 'asleep' }],
    } as unknown as MethodResult<'hosts'>;
    const broken = await client.request('hosts');
    expect(broken.error).toMatchObject({ code: 'INTERNAL' });
    expect(broken.error.message).toMatch(/"hosts".*health/);
    client.close();
  });

  it('the client refuses a hosts result that breaks the contract (PROTOCOL_INVALID)', async () => {
    t = await startTestServer({ validateResults: false });
    const client = await connectClient({ socketPath: t.socketPath, clientName: 'test' });
    expect(await client.call('hosts')).toEqual(t.api.fleet);
    t.api.fleet = { fleet: true, this_host: 'a', hosts: [{ host: 'a' }] } as unknown as MethodResult<'hosts'>;
    await expect(client.call('hosts')).rejects.toMatchObject({
      code: 'PROTOCOL_INVALID',
      message: expect.stringMatching(/"hosts".*pid/) as unknown,
    });
    await client.close();
  });

  it('list: a host per pipeline, or none from a daemon before fleet mode; a number is refused', async () => {
    t = await startTestServer({ validateResults: false });
    const client = await connectClient({ socketPath: t.socketPath, clientName: 'test' });
    t.api.pipelines = [
      { ...summary('orders', 'running'), host: 'etl-b' },
      { ...summary('users', 'idle'), host: null },
      summary('stock', 'idle'),
    ];
    expect((await client.call('list')).map((p) => p.host)).toEqual(['etl-b', null, undefined]);
    t.api.pipelines = [{ ...summary('orders', 'running'), host: 7 } as unknown as PipelineSummary];
    await expect(client.call('list')).rejects.toMatchObject({ code: 'PROTOCOL_INVALID' });
    await client.close();
  });
});

function fleetHostEntry(): MethodResult<'hosts'>['hosts'][number] {
  return {
    host: 'testhost',
    pid: 1,
    version: '0.1.0-test',
    started_at: '2026-03-04T00:00:00.000Z',
    heartbeat_at: '2026-03-04T12:00:00.000Z',
    health: 'alive',
    running: [],
  };
}
