/**
 * What the supervisor tells the alerting side about files a files run quarantined
 * (`on_bad_file: skip`): a succeeded run whose outcome lists quarantined files goes to
 * `notifyFilesQuarantined` with every one of them (the service caps what it shows), a run that
 * loaded nothing because every new file was bad included; a run without any does not. A failing
 * hook never touches the run.
 */
import { describe, expect, it } from 'vitest';
import { fail, harness, outcome, pipeline, type Script } from './harness.js';

const FILES = [
  { key: 'a/1.csv.gz', reason: 'a/1.csv.gz: not a gzip stream (invalid header at byte 0)' },
  { key: 'a/2.csv', reason: 'a/2.csv line 3, column qty: not a bigint' },
];

function quarantining(files: readonly { key: string; reason: string }[], rows: number): Script {
  return () => Promise.resolve({ ...outcome(rows), quarantinedFiles: files });
}

describe('quarantined files in the supervisor', () => {
  it('hands a succeeded run with quarantined files to notifyFilesQuarantined, and runs without any not at all', async () => {
    const h = harness('2026-06-01T10:00:00Z');
    h.supervisor.setPipelines([pipeline('orders')], []);
    h.supervisor.start();
    h.engine.script(quarantining(FILES, 8), quarantining([], 4), () => Promise.resolve(outcome(6)));

    h.supervisor.trigger('orders', 'manual');
    await h.clock.advance(1_000);
    expect(h.store.getRun('orders-1-1')).toMatchObject({ status: 'succeeded', rowsLoaded: 8 });
    expect(h.alerts.filesQuarantined).toEqual([
      { pipeline: 'orders', runId: 'orders-1', rows: 8, files: FILES },
    ]);

    for (const sequence of [2, 3]) {
      h.supervisor.trigger('orders', 'manual');
      await h.clock.advance(1_000);
      expect(h.store.getRun(`orders-${sequence}-1`)).toMatchObject({ status: 'succeeded' });
    }
    expect(h.alerts.filesQuarantined).toHaveLength(1);
    expect(h.alerts.failures).toEqual([]);
  });

  it('alerts a run that loaded nothing because every new file was quarantined, under its logical run id', async () => {
    const h = harness('2026-06-01T10:00:00Z');
    const retries = { max_retries: 1, retry_delay: '5s', max_retry_delay: '5s', retry_timeout: '1h' };
    h.supervisor.setPipelines([pipeline('orders', { error_handling: retries })], []);
    h.supervisor.start();
    // A first attempt that fails, then a run with nothing to load: verdict skipped, zero rows.
    h.engine.script(fail('SOURCE_CONNECTION', 'connection refused'), () =>
      Promise.resolve({
        ...outcome(0),
        verdict: 'skipped',
        notes: ['files: nothing new to load'],
        quarantinedFiles: [FILES[1]!],
      }),
    );

    h.supervisor.trigger('orders', 'manual');
    await h.clock.advance(10_000);
    expect(h.store.getRun('orders-1-2')).toMatchObject({ status: 'succeeded', rowsLoaded: 0 });
    expect(h.alerts.filesQuarantined).toEqual([
      { pipeline: 'orders', runId: 'orders-1', rows: 0, files: [FILES[1]] },
    ]);
  });

  it('a hook that throws is logged and the run stays succeeded', async () => {
    const h = harness('2026-06-01T10:00:00Z');
    h.alerts.notifyFilesQuarantined = () => {
      throw new Error('alert store unavailable');
    };
    h.supervisor.setPipelines([pipeline('orders')], []);
    h.supervisor.start();
    h.engine.script(quarantining(FILES, 3));

    h.supervisor.trigger('orders', 'manual');
    await h.clock.advance(1_000);
    expect(h.store.getRun('orders-1-1')).toMatchObject({ status: 'succeeded', rowsLoaded: 3 });
    expect(h.logs.map((r) => r.message)).toContain(
      'alert hook notifyFilesQuarantined failed: alert store unavailable',
    );
  });
});
