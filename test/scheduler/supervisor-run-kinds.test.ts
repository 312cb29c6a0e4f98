import { describe, expect, it } from 'vitest';
import type { FleetCoordinator } from '../../daemon/fleet/coordinator.js';
import { SoloCoordinator } from '../../daemon/fleet/solo-coordinator.js';
import type { RunOrder } from '../../daemon/scheduler/run-sequence.js';
import { controllable, fail, harness, pipeline, succeed } from './harness.js';

const range = { from: '2026-01-01 00:00:00+00', to: '2026-02-01 00:00:00+00', shard: null };
const backfill: RunOrder = { run: { kind: 'backfill', range }, requestedBy: 'alice (etlctl/0.1.0, unix)' };
const retrying = { error_handling: { max_retries: 2, retry_delay: '5s', exponential_backoff: false } };

describe('run kinds in the supervisor', () => {
  it('a backfill keeps its kind, range and requester on every attempt, also after a restart', async () => {
    const h = harness('2026-06-01T12:00:00Z');
    h.engine.script(fail('SOURCE_CONNECTION'), fail('SOURCE_CONNECTION'), succeed(3));
    h.supervisor.setPipelines([pipeline('orders', retrying)], []);
    h.supervisor.start();
    expect(h.supervisor.trigger('orders', 'manual', backfill)).toEqual({ runId: 'orders-1' });
    await h.clock.advance(5_000); // the first retry
    // The daemon stops while the second retry waits; the next one continues it.
    await h.supervisor.drain(1_000);
    const next = h.restart();
    next.setPipelines([pipeline('orders', retrying)], []);
    next.start();
    await h.clock.advance(10_000);
    expect(h.engine.requests.map((r) => [r.request.runId, r.request.trigger, r.request.kind])).toEqual([
      ['orders-1-1', 'manual', { kind: 'backfill', range }],
      ['orders-1-2', 'retry', { kind: 'backfill', range }],
      ['orders-1-3', 'startup-recovery', { kind: 'backfill', range }],
    ]);
    expect(h.store.attemptsOf('orders', 1).map((a) => [a.kind, a.backfill, a.requestedBy, a.status])).toEqual(
      [
        ['backfill', range, 'alice (etlctl/0.1.0, unix)', 'failed'],
        ['backfill', range, 'alice (etlctl/0.1.0, unix)', 'failed'],
        ['backfill', range, 'alice (etlctl/0.1.0, unix)', 'succeeded'],
      ],
    );
  });

  it('schedule fires start normal runs that nobody asked for', async () => {
    const h = harness('2026-06-01T11:59:00Z');
    h.supervisor.setPipelines([pipeline('orders', { schedule: '@hourly' })], []);
    h.supervisor.start();
    await h.clock.advance(60_000);
    expect(h.engine.requests.map((r) => r.request.kind)).toEqual([{ kind: 'normal' }]);
    expect(h.store.getRun('orders-1-1')).toMatchObject({ kind: 'normal', requestedBy: null });
  });

  it('hold: refused while a run is active; while held no run starts, a fire is skipped with the reason', async () => {
    const h = harness('2026-06-01T11:59:00Z');
    const run = controllable();
    h.engine.script(run.script);
    h.supervisor.setPipelines([pipeline('orders', { schedule: '@hourly' })], []);
    h.supervisor.start();
    h.supervisor.trigger('orders', 'manual');
    expect(() => h.supervisor.hold('orders', 'watermark')).toThrow(
      expect.objectContaining({
        code: 'ILLEGAL_STATE',
        message: expect.stringContaining('pipeline orders is already running (run orders-1)'),
      }),
    );
    run.finish();
    await h.clock.advance(0);
    const release = h.supervisor.hold('orders', 'watermark');
    expect(() => h.supervisor.trigger('orders', 'manual')).toThrow(
      expect.objectContaining({
        code: 'ILLEGAL_STATE',
        retryable: true,
        message: 'pipeline orders: an operator is changing its watermark; try again in a moment',
      }),
    );
    await h.clock.advance(60_000); // 12:00 fires while held
    expect(h.engine.requests).toHaveLength(1);
    expect(h.store.getRuntime('orders').lastSkipReason).toBe(
      'an operator was changing its watermark when the schedule fired at 2026-06-01T12:00:00.000Z',
    );
    release();
    expect(h.supervisor.trigger('orders', 'manual')).toEqual({ runId: 'orders-2' });
  });
});

/** This host as one member of a fleet whose other host left a run unfinished (its lease expired). */
function memberOfFleet(): FleetCoordinator {
  const leases = new SoloCoordinator({
    host: 'host-b',
    pid: 1,
    version: 'test',
    startedAt: '2026-06-01T00:00:00Z',
  });
  return {
    host: leases.host,
    shared: true,
    claimFire: () => true,
    recordFireOutcome: () => undefined,
    acquireRunLease: (name) => leases.acquireRunLease(name),
    releaseRunLease: (name) => leases.releaseRunLease(name),
    leaseHolder: (name) => leases.leaseHolder(name),
    heartbeat: () => leases.heartbeat(),
    hosts: () => leases.hosts(),
    leave: () => leases.leave(),
  };
}

describe('run kinds in a fleet', () => {
  it('a full refresh or backfill is refused while another host left a run unfinished; a start continues it', async () => {
    const h = harness('2026-06-01T12:00:00Z', { fleet: memberOfFleet() });
    h.engine.script(succeed(3), succeed(4));
    h.supervisor.setPipelines([pipeline('orders')], []);
    h.supervisor.start();
    // Another host started orders-1 and died.
    h.store.insertRun({
      pipeline: 'orders',
      sequence: h.store.nextSequence('orders'),
      attempt: 1,
      trigger: 'schedule',
      kind: { kind: 'normal' },
      status: 'running',
    });
    const fullRefresh: RunOrder = {
      run: { kind: 'full_refresh' },
      requestedBy: 'alice (etlctl/0.1.0, unix)',
    };
    for (const [order, what] of [
      [fullRefresh, 'full refresh'],
      [backfill, 'backfill'],
    ] as const) {
      expect(() => h.supervisor.trigger('orders', 'manual', order)).toThrow(
        expect.objectContaining({
          code: 'ILLEGAL_STATE',
          message: expect.stringContaining(
            `pipeline orders: run orders-1-1 was left running by its host and must finish before a ${what}`,
          ),
        }),
      );
    }
    // Refused without a trace: no attempt started, the lease given back.
    expect(h.engine.requests).toEqual([]);
    expect(h.supervisor.trigger('orders', 'manual')).toEqual({ runId: 'orders-1' });
    await h.clock.advance(60_000); // a continued run starts after the recovery pause
    expect(h.store.attemptsOf('orders', 1).map((a) => a.status)).toEqual(['interrupted', 'succeeded']);
    expect(h.supervisor.trigger('orders', 'manual', fullRefresh)).toEqual({ runId: 'orders-2' });
    await h.clock.advance(0);
    expect(h.engine.requests.map((r) => [r.request.runId, r.request.kind])).toEqual([
      ['orders-1-2', { kind: 'normal' }],
      ['orders-2-1', { kind: 'full_refresh' }],
    ]);
  });
});
