import { describe, expect, it } from 'vitest';
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
