import { describe, expect, it } from 'vitest';
import { EtlError } from '../../shared/errors.js';
import { controllable, fail, hang, harness, pipeline, succeed } from './harness.js';

const seed002 = {
  max_retries: 3,
  retry_delay: '5s',
  max_retry_delay: '15m',
  exponential_backoff: true,
  retry_timeout: '1h',
};

describe('retry policy in the supervisor', () => {
  it('follows the seed-002 timeline: fail at midnight, attempts at +5 s, +15 s, +35 s, then wait for the next midnight', async () => {
    const h = harness('2026-06-01T23:59:00Z');
    h.engine.otherwise(fail('SOURCE_CONNECTION', 'connection to db1:5432 refused'));
    h.supervisor.setPipelines([pipeline('orders', { schedule: '@daily', error_handling: seed002 })], []);
    h.supervisor.start();

    await h.clock.advanceTo('2026-06-02T00:10:00Z');
    expect(
      h.engine.requests.map((r) => [r.at, r.request.attempt, r.request.trigger, r.request.sequence]),
    ).toEqual([
      ['2026-06-02T00:00:00.000Z', 1, 'schedule', 1],
      ['2026-06-02T00:00:05.000Z', 2, 'retry', 1],
      ['2026-06-02T00:00:15.000Z', 3, 'retry', 1],
      ['2026-06-02T00:00:35.000Z', 4, 'retry', 1],
    ]);
    const history = h.store.listRuns('orders', 10);
    expect(history.map((r) => [r.id, r.status, r.errorCode])).toEqual([
      ['orders-1-4', 'failed', 'SOURCE_CONNECTION'],
      ['orders-1-3', 'failed', 'SOURCE_CONNECTION'],
      ['orders-1-2', 'failed', 'SOURCE_CONNECTION'],
      ['orders-1-1', 'failed', 'SOURCE_CONNECTION'],
    ]);
    expect(history.every((r) => r.firstFailureAt === '2026-06-02T00:00:00.000Z')).toBe(true);
    // One run spans the four attempts: it is `failed` only at its end, never between attempts.
    expect(h.states.filter((s) => s.run_id === 'orders-1').map((s) => [s.status, s.attempt])).toEqual([
      ['running', 1],
      ['retrying', 1],
      ['running', 2],
      ['retrying', 2],
      ['running', 3],
      ['retrying', 3],
      ['running', 4],
      ['failed', 4],
    ]);
    expect(h.states.filter((s) => s.run_id === 'orders-1').map((s) => s.attempt_id)).toContain('orders-1-4');
    expect(h.alerts.failures).toEqual([
      {
        pipeline: 'orders',
        runId: 'orders-1',
        attempts: 4,
        error: { code: 'SOURCE_CONNECTION', message: 'connection to db1:5432 refused' },
        lastSuccessAt: null,
        rows: 0,
        firstFailureAt: '2026-06-02T00:00:00.000Z',
        nextRun: { kind: 'schedule', at: '2026-06-03T00:00:00.000Z' },
        scheduled: true,
      },
    ]);
    const [summary] = h.supervisor.summaries();
    expect(summary).toMatchObject({
      name: 'orders',
      state: 'failed',
      next_run_at: '2026-06-03T00:00:00.000Z',
    });
    expect(h.supervisor.why('orders').lines.join('\n')).toMatch(
      /failed after 4 attempt\(s\).*retries exhausted.*next schedule/,
    );

    // The next midnight runs again, succeeds, and the recovery is announced.
    h.engine.otherwise(succeed(42));
    await h.clock.advanceTo('2026-06-03T00:00:01Z');
    expect(h.engine.requests.at(-1)).toMatchObject({
      at: '2026-06-03T00:00:00.000Z',
      request: { runId: 'orders-2-1', trigger: 'schedule' },
    });
    expect(h.store.getRun('orders-2-1')).toMatchObject({ status: 'succeeded', rowsLoaded: 42 });
    expect(h.alerts.recoveries).toEqual([
      {
        pipeline: 'orders',
        runId: 'orders-2',
        attempts: 1,
        previousFailureAt: '2026-06-02T00:00:35.000Z',
        rows: 42,
      },
    ]);
    expect(h.alerts.failures).toHaveLength(1);
  });

  it('retry_timeout cuts the retries short', async () => {
    const h = harness('2026-06-01T23:59:00Z');
    h.engine.otherwise(fail('DESTINATION_CONFLICT'));
    h.supervisor.setPipelines(
      [pipeline('orders', { schedule: '@daily', error_handling: { ...seed002, retry_timeout: '30s' } })],
      [],
    );
    h.supervisor.start();
    await h.clock.advanceTo('2026-06-02T01:00:00Z');
    // The retry after attempt 3 would start at +35 s, past 30 s from the first failure.
    expect(h.engine.requests.map((r) => r.at)).toEqual([
      '2026-06-02T00:00:00.000Z',
      '2026-06-02T00:00:05.000Z',
      '2026-06-02T00:00:15.000Z',
    ]);
    expect(h.store.getRun('orders-1-3')?.status).toBe('failed');
    expect(h.alerts.failures.map((f) => f.attempts)).toEqual([3]);
    expect(h.logs.some((l) => l.level === 'error' && /retry_timeout reached/.test(l.message))).toBe(true);
  });

  it('non-retryable errors fail at once with their reason', async () => {
    const h = harness('2026-06-01T12:00:00Z');
    h.engine.script(
      fail(
        'SCHEMA_MISMATCH',
        'column amount changed type: decimal(18,2) in the destination, text in the source',
      ),
    );
    h.supervisor.setPipelines([pipeline('orders', { error_handling: seed002 })], []);
    h.supervisor.start();
    const { runId } = h.supervisor.trigger('orders', 'manual');
    expect(runId).toBe('orders-1');
    await h.clock.advance(3_600_000);
    expect(h.engine.requests).toHaveLength(1);
    expect(h.store.getRun(`${runId}-1`)).toMatchObject({
      status: 'failed',
      trigger: 'manual',
      errorCode: 'SCHEMA_MISMATCH',
      errorMessage: expect.stringContaining('column amount'),
    });
    // No schedule: the alert and `why` say that only an operator runs it again.
    expect(h.alerts.failures).toMatchObject([
      { attempts: 1, error: { code: 'SCHEMA_MISMATCH' }, nextRun: { kind: 'manual' } },
    ]);
    expect(h.supervisor.why('orders').lines.join('\n')).toMatch(
      /not retryable, failed at once; nothing runs it again until `etlctl start`/,
    );
    // An EtlError that overrides its code's classification is honoured too.
    h.engine.script(() =>
      Promise.reject(
        new EtlError('SOURCE_CONNECTION', 'password authentication failed', { retryable: false }),
      ),
    );
    h.supervisor.trigger('orders', 'manual');
    await h.clock.advance(3_600_000);
    expect(h.engine.requests).toHaveLength(2);
    // A non-EtlError thrown by an engine bug is INTERNAL, not retried, and does not crash anything.
    h.engine.script(() => Promise.reject(new TypeError('x is undefined')));
    const third = h.supervisor.trigger('orders', 'manual');
    await h.clock.advance(3_600_000);
    expect(h.store.getRun(`${third.runId}-1`)).toMatchObject({
      status: 'failed',
      errorCode: 'INTERNAL',
      errorMessage: 'x is undefined',
    });
    h.engine.script(() => {
      throw new Error('synchronous throw');
    });
    const fourth = h.supervisor.trigger('orders', 'manual');
    await h.clock.advance(1000);
    expect(h.store.getRun(`${fourth.runId}-1`)).toMatchObject({
      status: 'failed',
      errorMessage: 'synchronous throw',
    });
  });

  it('the stall watchdog cancels a run without progress and retries it', async () => {
    const h = harness('2026-06-01T12:00:00Z');
    h.supervisor.setPipelines([pipeline('orders', { stall_timeout: '1m', error_handling: seed002 })], []);
    h.supervisor.start();
    const first = controllable();
    h.engine.script(first.script, succeed(7));
    h.supervisor.trigger('orders', 'manual');
    await h.clock.advance(1);
    const request = h.engine.requests[0]!.request;
    request.onProgress({ phase: 'extracting', rows: 10, bytes: 100, rowsPerSecond: 1, parts: [] });
    await h.clock.advance(50_000);
    request.onProgress({ phase: 'extracting', rows: 20, bytes: 200, rowsPerSecond: 1, parts: [] }); // moved at +50 s
    await h.clock.advance(55_000); // +105 s: 55 s without movement
    expect(h.store.getRun('orders-1-1')?.status).toBe('running');
    expect(h.supervisor.currentRun('orders')).toMatchObject({
      id: 'orders-1',
      attempt: 1,
      rows_extracted: 20,
    });
    request.onProgress({ phase: 'extracting', rows: 20, bytes: 200, rowsPerSecond: 0, parts: [] }); // no movement
    await h.clock.advance(6_000); // +111 s: 61 s without movement
    expect(h.store.getRun('orders-1-1')).toMatchObject({
      status: 'retrying',
      errorCode: 'STALLED',
      rowsExtracted: 20,
    });
    expect(h.alerts.stalls).toEqual([{ pipeline: 'orders', runId: 'orders-1', stalledForMs: 60_000 }]);
    expect(h.logs.some((l) => l.level === 'warning' && /stalled/.test(l.message))).toBe(true);
    await h.clock.advance(5_000);
    expect(h.store.getRun('orders-1-2')).toMatchObject({
      status: 'succeeded',
      trigger: 'retry',
      rowsLoaded: 7,
    });
    expect(h.store.getRun('orders-1-1')?.status).toBe('failed');
    expect(h.alerts.recoveries).toHaveLength(0);
  });

  it('time spent waiting for a source slot is not a stall', async () => {
    const h = harness('2026-06-01T12:00:00Z');
    h.supervisor.setPipelines([pipeline('orders', { stall_timeout: '1m' })], []);
    h.supervisor.start();
    h.engine.script(hang());
    h.supervisor.trigger('orders', 'manual');
    await h.clock.advance(1);
    const request = h.engine.requests[0]!.request;
    request.onProgress({ phase: 'waiting', rows: 0, bytes: 0, rowsPerSecond: 0, parts: [] });
    await h.clock.advance(10 * 60_000);
    expect(h.store.getRun('orders-1-1')?.status).toBe('running');
    expect(h.supervisor.summaries()[0]?.state).toBe('waiting');
    expect(h.supervisor.why('orders').lines.join('\n')).toMatch(/waiting for source slot/);
    request.onProgress({ phase: 'extracting', rows: 0, bytes: 0, rowsPerSecond: 0, parts: [] });
    await h.clock.advance(61_000);
    expect(h.store.getRun('orders-1-1')?.errorCode).toBe('STALLED');
    expect(h.alerts.stalls).toHaveLength(1);
  });
});
