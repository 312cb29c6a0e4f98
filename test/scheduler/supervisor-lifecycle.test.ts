import { describe, expect, it } from 'vitest';
import type { RunOutcome, RunRequest } from '../../daemon/engine/engine.js';
import { EtlError } from '../../shared/errors.js';
import { SourceGovernor } from '../../daemon/scheduler/source-governor.js';
import { controllable, fail, harness, hang, outcome, pipeline, succeed, untilAborted } from './harness.js';

describe('start-up recovery', () => {
  it('turns a run left `running` into `interrupted` and retries it under the policy, same sequence', async () => {
    const h = harness('2026-06-01T12:00:00Z');
    // What a SIGKILLed daemon leaves behind.
    const crashed = h.store.insertRun({
      pipeline: 'orders',
      sequence: 7,
      attempt: 1,
      trigger: 'schedule',
      kind: { kind: 'normal' },
      status: 'running',
    });
    h.store.updateRun(crashed.id, { startedAt: '2026-06-01T11:59:00.000Z' });
    h.engine.script(succeed(11));
    h.supervisor.setPipelines([pipeline('orders')], []);
    h.supervisor.start();
    expect(h.store.getRun('orders-7-1')).toMatchObject({
      status: 'interrupted',
      errorCode: 'INTERRUPTED',
      firstFailureAt: '2026-06-01T12:00:00.000Z',
    });
    expect(h.states[0]).toMatchObject({
      run_id: 'orders-7',
      attempt_id: 'orders-7-1',
      status: 'interrupted',
    });
    expect(h.supervisor.summaries()[0]?.state).toBe('retrying');
    await h.clock.advance(4_999);
    expect(h.engine.requests).toHaveLength(0);
    await h.clock.advance(1);
    expect(
      h.engine.requests.map((r) => [r.at, r.request.runId, r.request.sequence, r.request.trigger]),
    ).toEqual([['2026-06-01T12:00:05.000Z', 'orders-7-2', 7, 'startup-recovery']]);
    expect(h.store.getRun('orders-7-2')).toMatchObject({ status: 'succeeded', rowsLoaded: 11 });
    expect(h.store.getRun('orders-7-1')?.status).toBe('interrupted');
  });

  it('continues a retry that was pending when the daemon stopped, at its original time', async () => {
    const h = harness('2026-06-01T12:00:00Z');
    const waiting = h.store.insertRun({
      pipeline: 'orders',
      sequence: 3,
      attempt: 2,
      trigger: 'retry',
      kind: { kind: 'normal' },
      status: 'running',
    });
    h.store.updateRun(waiting.id, {
      status: 'retrying',
      finishedAt: '2026-06-01T11:59:58.000Z',
      errorCode: 'SOURCE_CONNECTION',
      errorMessage: 'refused',
      firstFailureAt: '2026-06-01T11:59:50.000Z',
    });
    h.supervisor.setPipelines([pipeline('orders')], []);
    h.supervisor.start();
    await h.clock.advance(8_000); // attempt 2 failed at 11:59:58, retry after 10 s → 12:00:08
    expect(h.engine.requests.map((r) => [r.at, r.request.runId])).toEqual([
      ['2026-06-01T12:00:08.000Z', 'orders-3-3'],
    ]);
    expect(h.store.getRun('orders-3-2')?.status).toBe('failed');
    expect(h.store.getRun('orders-3-3')).toMatchObject({
      status: 'succeeded',
      firstFailureAt: '2026-06-01T11:59:50.000Z',
    });
  });

  it('an interrupted run with no retries left fails and alerts once, and is not retried on the next start', async () => {
    const h = harness('2026-06-01T12:00:00Z');
    h.store.insertRun({
      pipeline: 'orders',
      sequence: 1,
      attempt: 1,
      trigger: 'manual',
      kind: { kind: 'normal' },
      status: 'running',
    });
    h.supervisor.setPipelines([pipeline('orders', { error_handling: { max_retries: 0 } })], []);
    h.supervisor.start();
    await h.clock.advance(60_000);
    expect(h.engine.requests).toHaveLength(0);
    expect(h.store.getRun('orders-1-1')).toMatchObject({ status: 'failed', errorCode: 'INTERRUPTED' });
    expect(h.alerts.failures).toMatchObject([
      { runId: 'orders-1', attempts: 1, error: { code: 'INTERRUPTED' } },
    ]);
    const again = h.restart();
    again.setPipelines([pipeline('orders', { error_handling: { max_retries: 0 } })], []);
    again.start();
    await h.clock.advance(60_000);
    expect(h.alerts.failures).toHaveLength(1);
  });
});

describe('manual trigger and stop', () => {
  it('stop cancels the attempt with no retry; unknown names are NOT_FOUND', async () => {
    const h = harness('2026-06-01T12:00:00Z');
    h.engine.script(hang());
    h.supervisor.setPipelines([pipeline('orders')], []);
    expect(() => h.supervisor.trigger('orders', 'manual')).toThrow(/supervisor is created/);
    h.supervisor.start();
    const { runId } = h.supervisor.trigger('orders', 'manual');
    expect(runId).toBe('orders-1');
    expect(h.supervisor.stop('orders')).toEqual({ runId, stopped: true });
    await h.clock.advance(3_600_000);
    expect(h.store.getRun(`${runId}-1`)).toMatchObject({ status: 'cancelled', errorCode: 'CANCELLED' });
    expect(h.engine.requests).toHaveLength(1);
    expect(h.engine.requests[0]?.request.signal.aborted).toBe(true);
    expect(h.supervisor.stop('orders')).toEqual({ runId: null, stopped: false });
    expect(() => h.supervisor.stop('nope')).toThrow(expect.objectContaining({ code: 'NOT_FOUND' }));
    expect(() => h.supervisor.pause('nope')).toThrow(expect.objectContaining({ code: 'NOT_FOUND' }));
  });

  it('stop during a retry wait cancels the pending retry', async () => {
    const h = harness('2026-06-01T12:00:00Z');
    h.engine.script(fail('SOURCE_TIMEOUT'));
    h.supervisor.setPipelines([pipeline('orders')], []);
    h.supervisor.start();
    h.supervisor.trigger('orders', 'manual');
    await h.clock.advance(1);
    expect(() => h.supervisor.trigger('orders', 'manual')).toThrow(/waiting to retry/);
    expect(h.supervisor.why('orders').lines.join('\n')).toMatch(/attempt 2 at 2026-06-01T12:00:05.000Z/);
    expect(h.supervisor.stop('orders')).toEqual({ runId: 'orders-1', stopped: true });
    await h.clock.advance(60_000);
    expect(h.engine.requests).toHaveLength(1);
    expect(h.store.getRun('orders-1-1')?.status).toBe('cancelled');
    expect(h.clock.pendingTimers).toBe(0);
  });
});

describe('drain', () => {
  it('waits for a run that finishes within the grace period and fires nothing new', async () => {
    const h = harness('2026-06-01T00:59:00Z');
    const slow = controllable();
    h.engine.script(slow.script);
    h.supervisor.setPipelines([pipeline('orders', { schedule: '@hourly' })], []);
    h.supervisor.start();
    const { runId } = h.supervisor.trigger('orders', 'manual');
    let drained = false;
    const draining = h.supervisor.drain(60_000).then(() => (drained = true));
    await h.clock.advance(30_000);
    expect(drained).toBe(false);
    expect(() => h.supervisor.trigger('orders', 'manual')).toThrow(/draining/);
    slow.finish(9);
    await h.clock.advance(1);
    await draining;
    expect(h.store.getRun(`${runId}-1`)?.status).toBe('succeeded');
    await h.clock.advance(3_600_000);
    expect(h.engine.requests).toHaveLength(1);
    expect(h.supervisor.state).toBe('stopped');
  });

  it('cancels runs still going after the grace period as `interrupted`; the next start retries them', async () => {
    const h = harness('2026-06-01T12:00:00Z');
    h.engine.script(hang());
    h.supervisor.setPipelines([pipeline('orders')], []);
    h.supervisor.start();
    const { runId } = h.supervisor.trigger('orders', 'manual');
    let drained = false;
    const draining = h.supervisor.drain(60_000).then(() => (drained = true));
    expect(h.supervisor.drain(1)).toBe(h.supervisor.drain(60_000)); // a second SIGTERM joins the same drain
    await h.clock.advance(59_999);
    expect(drained).toBe(false);
    await h.clock.advance(1);
    await draining;
    expect(h.store.getRun(`${runId}-1`)).toMatchObject({ status: 'interrupted', errorCode: 'INTERRUPTED' });
    expect(h.logs.some((l) => /grace period over/.test(l.message))).toBe(true);

    const next = h.restart();
    next.setPipelines([pipeline('orders')], []);
    next.start();
    await h.clock.advance(5_000);
    expect(h.engine.requests.map((r) => [r.request.runId, r.request.trigger])).toEqual([
      ['orders-1-1', 'manual'],
      ['orders-1-2', 'startup-recovery'],
    ]);
    expect(h.store.getRun('orders-1-2')?.status).toBe('succeeded');
  });

  it('a run failing during the grace period does not schedule a retry in this daemon', async () => {
    const h = harness('2026-06-01T12:00:00Z');
    const slow = controllable();
    h.engine.script(slow.script);
    h.supervisor.setPipelines([pipeline('orders')], []);
    h.supervisor.start();
    h.supervisor.trigger('orders', 'manual');
    const draining = h.supervisor.drain(60_000);
    await h.clock.advance(10_000);
    slow.failWith(new EtlError('SOURCE_CONNECTION', 'connection reset'));
    await draining;
    await h.clock.advance(3_600_000);
    expect(h.engine.requests).toHaveLength(1);
    expect(h.store.getRun('orders-1-1')).toMatchObject({
      status: 'retrying',
      errorCode: 'SOURCE_CONNECTION',
    });
    expect(h.clock.pendingTimers).toBe(0);
  });

  it('resolves at once with nothing running and leaves pending retries for the next start', async () => {
    const h = harness('2026-06-01T12:00:00Z');
    h.engine.script(fail('SOURCE_CONNECTION'));
    h.supervisor.setPipelines([pipeline('orders')], []);
    h.supervisor.start();
    h.supervisor.trigger('orders', 'manual');
    await h.clock.advance(1);
    await h.supervisor.drain(60_000);
    expect(h.store.getRun('orders-1-1')?.status).toBe('retrying');
    expect(h.clock.pendingTimers).toBe(0);
  });
});

describe('per-source governor', () => {
  it('limits concurrent runs per source host and shows the waiting one', async () => {
    const governor = new SourceGovernor({ slotsPerHost: 1 });
    const h = harness('2026-06-01T12:00:00Z', { governor });
    const releases: (() => void)[] = [];
    const finishers = new Map<string, (o: RunOutcome) => void>();
    // An engine that, like the real one, holds a source slot while it reads.
    const governed = async (request: RunRequest): Promise<RunOutcome> => {
      const connection = request.pipeline.config.source.connection;
      const host = `${connection?.host}:${connection?.port}`;
      const release = await governor.acquire(host, request.signal, () =>
        request.onProgress({ phase: 'waiting', rows: 0, bytes: 0, rowsPerSecond: 0, parts: [] }),
      );
      releases.push(release);
      request.onProgress({ phase: 'extracting', rows: 1, bytes: 1, rowsPerSecond: 1, parts: [] });
      try {
        return await Promise.race([
          new Promise<RunOutcome>((resolve) => finishers.set(request.runId, resolve)),
          untilAborted(request),
        ]);
      } finally {
        release();
      }
    };
    h.engine.otherwise(governed);
    h.supervisor.setPipelines(
      [
        pipeline('a'),
        pipeline('b'),
        pipeline('c', { source: { type: 'postgres', connection: { host: 'db2', port: 5432 }, table: 't' } }),
      ],
      [],
    );
    h.supervisor.start();
    h.supervisor.trigger('a', 'manual');
    h.supervisor.trigger('b', 'manual');
    h.supervisor.trigger('c', 'manual');
    await h.clock.advance(1);
    const states = Object.fromEntries(h.supervisor.summaries().map((s) => [s.name, s.state]));
    expect(states).toEqual({ a: 'running', b: 'waiting', c: 'running' });
    expect(governor.usage()).toEqual([
      { host: 'db1:5432', inUse: 1, waiting: 1 },
      { host: 'db2:5432', inUse: 1, waiting: 0 },
    ]);
    expect(h.supervisor.why('b').lines.join('\n')).toMatch(
      /waiting for source slot[\s\S]*db1:5432 \(1 in use, 1 waiting\)/,
    );
    finishers.get('a-1-1')?.(outcome(1));
    await h.clock.advance(1);
    expect(h.supervisor.summaries().find((s) => s.name === 'b')?.state).toBe('running');
    finishers.get('b-1-1')?.(outcome(1));
    finishers.get('c-1-1')?.(outcome(1));
    await h.clock.advance(1);
    expect(['a-1-1', 'b-1-1', 'c-1-1'].map((id) => h.store.getRun(id)?.status)).toEqual([
      'succeeded',
      'succeeded',
      'succeeded',
    ]);
    expect(governor.usage()).toEqual([]);
  });
});
