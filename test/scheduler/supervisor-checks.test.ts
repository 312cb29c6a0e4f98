/**
 * What the supervisor tells the alerting side about data quality checks: every committed run that
 * judged checks goes to `notifyChecks` with its results (the AlertService decides whether they are
 * worth an alert), and the failure alert of a run a check stopped carries the failing checks read
 * back from the attempt's row.
 */
import { describe, expect, it } from 'vitest';
import type { CheckResult } from '../../shared/protocol.js';
import { fail, harness, judged, pipeline, succeed } from './harness.js';

function check(name: string, status: CheckResult['status'], observed: number): CheckResult {
  return {
    name,
    type: 'not_null',
    status,
    on_fail: status === 'pass' ? 'fail' : status,
    observed,
    threshold: '0 rows',
    detail: `check "${name}" ${status}: ${observed} rows of 10 have NULL in column "x"`,
  };
}

const retries = { max_retries: 2, retry_delay: '5s', max_retry_delay: '1m', retry_timeout: '1h' };

describe('check results in the supervisor', () => {
  it('hands a committed run with checks to notifyChecks, and a run without checks not at all', async () => {
    const h = harness('2026-06-01T10:00:00Z');
    h.supervisor.setPipelines([pipeline('orders')], []);
    h.supervisor.start();
    const results = [check('not_null(a)', 'pass', 0), check('not_null(b)', 'warn', 2)];
    h.engine.script(judged(h.store, results, 8), succeed(9));

    h.supervisor.trigger('orders', 'manual');
    await h.clock.advance(1_000);
    expect(h.store.getRun('orders-1-1')).toMatchObject({ status: 'succeeded', checks: results });
    expect(h.alerts.checks).toEqual([
      { pipeline: 'orders', runId: 'orders-1', attempts: 1, rows: 8, checks: results },
    ]);

    h.supervisor.trigger('orders', 'manual');
    await h.clock.advance(1_000);
    expect(h.store.getRun('orders-2-1')).toMatchObject({ status: 'succeeded', checks: [] });
    expect(h.alerts.checks).toHaveLength(1);
    expect(h.alerts.failures).toEqual([]);
  });

  it('names the checks that failed in the failure alert, from the final attempt’s row', async () => {
    const h = harness('2026-06-01T10:00:00Z');
    h.supervisor.setPipelines([pipeline('orders', { error_handling: retries })], []);
    h.supervisor.start();
    const results = [
      check('not_null(a)', 'fail', 3),
      check('not_null(b)', 'warn', 1),
      check('not_null(c)', 'fail', 4),
    ];
    // A retried failure first: the failed run's checks are those of its last attempt.
    h.engine.script(fail('SOURCE_CONNECTION', 'connection refused'), judged(h.store, results));

    h.supervisor.trigger('orders', 'manual');
    await h.clock.advance(10_000);
    expect(h.store.getRun('orders-1-2')).toMatchObject({ status: 'failed', errorCode: 'CHECK_FAILED' });
    expect(h.alerts.checks).toEqual([]);
    expect(h.alerts.failures).toHaveLength(1);
    expect(h.alerts.failures[0]).toMatchObject({
      runId: 'orders-1',
      attempts: 2,
      error: { code: 'CHECK_FAILED' },
      failedChecks: [results[0], results[2]],
    });

    // A failure no check caused carries no check list.
    h.engine.script(fail('SOURCE_PERMISSION', 'permission denied for table orders'));
    h.supervisor.trigger('orders', 'manual');
    await h.clock.advance(1_000);
    expect(h.alerts.failures).toHaveLength(2);
    expect(h.alerts.failures[1]).not.toHaveProperty('failedChecks');
  });
});
