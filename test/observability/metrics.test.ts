/**
 * /metrics end to end in one process: a supervisor with a scripted engine and a fake clock runs
 * pipelines (a success, a retried failure, a stall), the real metrics registry counts them, the
 * real HTTP endpoint serves them, `promtool check metrics` parses and lints the output, and the
 * values are checked against the runs in the state store.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { collectDefaultMetrics } from 'prom-client';
import { EtlError } from '../../shared/errors.js';
import type { CheckResult } from '../../shared/protocol.js';
import { EventBus } from '../../daemon/events/event-bus.js';
import { FanoutLogger } from '../../daemon/logging/logger.js';
import { FreshnessMonitor } from '../../daemon/observability/freshness.js';
import { HttpEndpoint, type Readiness } from '../../daemon/observability/http-endpoint.js';
import { instrumentGovernor, instrumentStore } from '../../daemon/observability/instrument.js';
import {
  dropMisnamedDefaultMetrics,
  EtldMetrics,
  pipelineViews,
} from '../../daemon/observability/metrics.js';
import { watermarkTimeMs } from '../../daemon/observability/watermark-lag.js';
import { SourceGovernor } from '../../daemon/scheduler/source-governor.js';
import { Supervisor } from '../../daemon/scheduler/supervisor.js';
import { openStateStore } from '../../daemon/state/sqlite-store.js';
import { FakeClock } from '../scheduler/fake-clock.js';
import {
  controllable,
  fail,
  hang,
  judged,
  pipeline,
  RecordingAlerts,
  ScriptedEngine,
  succeed,
} from '../scheduler/harness.js';
import { promtoolCheck, samples } from './prometheus.js';

const cleanups: (() => void | Promise<void>)[] = [];
afterEach(async () => {
  for (const step of cleanups.splice(0).reverse()) await step();
});

const TOKEN = 'test-metrics-token-7f3a';
const retries = { max_retries: 3, retry_delay: '5s', max_retry_delay: '1m', retry_timeout: '1h' };

async function world() {
  const clock = new FakeClock('2026-05-21T10:00:00Z');
  const rawStore = openStateStore(':memory:', () => clock.now());
  cleanups.push(() => rawStore.close());
  const logger = new FanoutLogger([]);
  const events = new EventBus();
  const engine = new ScriptedEngine(() => clock.now());
  const governor = new SourceGovernor({ slotsPerHost: 1 });
  const late: { supervisor?: Supervisor; freshness?: FreshnessMonitor } = {};
  const metrics = new EtldMetrics({
    store: rawStore,
    pipelines: () => pipelineViews(late.supervisor?.summaries() ?? []),
    slots: () => governor.usage(),
    now: () => clock.now(),
    version: '9.9.9-test',
    logger,
  });
  collectDefaultMetrics({ register: metrics.registry });
  dropMisnamedDefaultMetrics(metrics.registry);
  metrics.attach(events);
  const store = instrumentStore(rawStore, metrics);
  const alerts = new RecordingAlerts();
  const supervisor = new Supervisor({
    store,
    engine,
    clock,
    logger,
    events,
    alerts,
    governor,
    defaults: { stallTimeoutMs: 600_000, timezone: 'UTC' },
    freshness: (name) => late.freshness?.of(name) ?? null,
  });
  late.supervisor = supervisor;
  const freshness = new FreshnessMonitor({
    clock,
    store,
    alerts: { notifyStale: () => undefined, notifyFresh: () => undefined },
    logger,
    defaultMs: 2 * 3_600_000,
  });
  late.freshness = freshness;
  cleanups.push(() => freshness.stop());
  let readiness: Readiness = { ready: false, reason: 'starting' };
  const http = new HttpEndpoint({
    host: '127.0.0.1',
    port: 0,
    token: TOKEN,
    metrics,
    readiness: () => readiness,
    logger,
  });
  await http.start();
  cleanups.push(() => http.close());
  const url = (path: string): string => `http://127.0.0.1:${http.address.port}${path}`;
  return {
    clock,
    store,
    engine,
    // Slot waits are timed on the fake clock too: a test moves time instead of sleeping through it.
    governor: instrumentGovernor(governor, metrics, () => clock.now().getTime()),
    supervisor,
    freshness,
    events,
    url,
    setReady: (r: Readiness) => (readiness = r),
    scrape: async (): Promise<string> => {
      const response = await fetch(url('/metrics'), { headers: { Authorization: `Bearer ${TOKEN}` } });
      expect(response.status).toBe(200);
      expect(response.headers.get('content-type')).toBe('text/plain; version=0.0.4; charset=utf-8');
      return response.text();
    },
  };
}

describe('/metrics', () => {
  it('counts runs, rows, retries, stalls and durations per pipeline, passes promtool, and matches the state store', async () => {
    const w = await world();
    w.supervisor.setPipelines(
      [
        pipeline('orders', { error_handling: retries }),
        pipeline('billing', { error_handling: retries }),
        pipeline('events', { error_handling: retries, stall_timeout: '1m', freshness: 'off' }),
      ],
      [],
    );
    w.freshness.setPipelines([
      pipeline('orders'),
      pipeline('billing'),
      pipeline('events', { freshness: 'off' }),
    ]);
    w.supervisor.start();
    w.freshness.start(w.events);

    // orders: one success of 120 rows. billing: a refused connection, then 40 rows on the retry.
    // events: a hung attempt the stall watchdog cancels, then 7 rows.
    w.engine.script(succeed(120));
    w.supervisor.trigger('orders', 'manual');
    await w.clock.advance(1_000);
    w.engine.script(fail('SOURCE_CONNECTION', 'connection refused'), succeed(40));
    w.supervisor.trigger('billing', 'manual');
    await w.clock.advance(10_000);
    w.engine.script(hang(), succeed(7));
    w.supervisor.trigger('events', 'manual');
    await w.clock.advance(2 * 60_000);
    w.store.commitWatermarks('orders', 1, [
      { shard: 's1', value: '2026-05-21 09:00:00+00', boundary: [], identity: null },
      { shard: 's2', value: '2026-05-21', boundary: [], identity: null },
    ]);
    w.store.commitWatermarks('billing', 1, [
      { shard: 'default', value: '18446', boundary: [], identity: null },
    ]);

    const text = await w.scrape();
    await promtoolCheck(text);
    const m = samples(text);
    const value = (key: string): number | undefined => m.get(key);

    for (const name of ['orders', 'billing', 'events']) {
      const runs = w.store.listRunAttempts(name, 10);
      expect(runs).toHaveLength(1);
      const attempts = runs[0]!;
      const final = attempts.at(-1)!;
      expect(final.status).toBe('succeeded');
      expect(value(`etld_runs_total{pipeline="${name}",status="succeeded"}`)).toBe(1);
      expect(value(`etld_runs_total{pipeline="${name}",status="failed"}`)).toBe(0);
      expect(value(`etld_rows_loaded_total{pipeline="${name}"}`)).toBe(final.rowsLoaded);
      expect(value(`etld_rows_extracted_total{pipeline="${name}"}`)).toBe(
        attempts.reduce((sum, a) => sum + a.rowsExtracted, 0),
      );
      expect(value(`etld_extracted_bytes_total{pipeline="${name}"}`)).toBe(
        attempts.reduce((sum, a) => sum + a.bytes, 0),
      );
      const seconds = (Date.parse(final.finishedAt!) - Date.parse(attempts[0]!.startedAt!)) / 1000;
      expect(value(`etld_run_duration_seconds_count{pipeline="${name}",status="succeeded"}`)).toBe(1);
      expect(value(`etld_run_duration_seconds_sum{pipeline="${name}",status="succeeded"}`)).toBeCloseTo(
        seconds,
        3,
      );
      expect(value(`etld_last_success_timestamp_seconds{pipeline="${name}"}`)).toBe(
        Date.parse(final.finishedAt!) / 1000,
      );
      expect(value(`etld_pipeline_state{pipeline="${name}",state="idle"}`)).toBe(1);
      expect(value(`etld_pipeline_state{pipeline="${name}",state="running"}`)).toBe(0);
    }
    expect(value('etld_rows_loaded_total{pipeline="orders"}')).toBe(120);
    expect(value('etld_run_retries_total{pipeline="billing"}')).toBe(1);
    expect(value('etld_run_retries_total{pipeline="events"}')).toBe(1);
    expect(value('etld_run_stalls_total{pipeline="events"}')).toBe(1);
    expect(value('etld_run_stalls_total{pipeline="billing"}')).toBeUndefined();
    // billing's run waited 5 s for its retry: the duration spans both attempts.
    expect(value('etld_run_duration_seconds_sum{pipeline="billing",status="succeeded"}')).toBe(5);
    expect(value('etld_run_duration_seconds_bucket{le="5",pipeline="billing",status="succeeded"}')).toBe(1);
    expect(value('etld_run_duration_seconds_bucket{le="1",pipeline="billing",status="succeeded"}')).toBe(0);

    // now − watermark, for time cursors only; the numeric cursor of billing has no series.
    const now = w.clock.now().getTime();
    expect(value('etld_watermark_lag_seconds{pipeline="orders",shard="s1"}')).toBe(
      (now - Date.parse('2026-05-21T09:00:00Z')) / 1000,
    );
    expect(value('etld_watermark_lag_seconds{pipeline="orders",shard="s2"}')).toBe(
      (now - Date.parse('2026-05-21T00:00:00Z')) / 1000,
    );
    expect([...m.keys()].some((k) => k.startsWith('etld_watermark_lag_seconds{pipeline="billing"'))).toBe(
      false,
    );

    expect(value('etld_pipeline_freshness_seconds{pipeline="orders"}')).toBe(7200);
    expect(value('etld_pipeline_stale{pipeline="orders"}')).toBe(0);
    expect(value('etld_pipeline_stale{pipeline="events"}')).toBeUndefined();

    expect(value('etld_state_store_operation_duration_seconds_count{operation="insertRun"}')).toBe(
      w.store.listRunAttempts('orders', 10).flat().length +
        w.store.listRunAttempts('billing', 10).flat().length +
        w.store.listRunAttempts('events', 10).flat().length,
    );
    expect(value('etld_build_info{version="9.9.9-test"}')).toBe(1);
    // Daemon RSS and CPU come from the process collector.
    expect(value('process_resident_memory_bytes')).toBeGreaterThan(0);
    expect(value('process_cpu_seconds_total')).toBeGreaterThan(0);
    // Bounded cardinality: no run or attempt id is ever a label value.
    expect(text).not.toMatch(/"(orders|billing|events)-\d+/);
  });

  it('shows the latest judged data quality checks per pipeline and counts the checks that did not pass', async () => {
    const w = await world();
    w.supervisor.setPipelines([pipeline('orders'), pipeline('billing')], []);
    w.supervisor.start();
    const result = (
      name: string,
      type: string,
      status: CheckResult['status'],
      observed: number,
      onFail: CheckResult['on_fail'] = status === 'pass' ? 'fail' : status,
    ): CheckResult => ({
      name,
      type,
      status,
      on_fail: onFail,
      observed,
      threshold: '0 rows',
      detail: `check "${name}": ${observed}`,
    });
    const checks = (m: Map<string, number>): [string, number][] =>
      [...m].filter(([k]) => k.startsWith('etld_check_')).sort(([a], [b]) => a.localeCompare(b));

    // orders, run 1: one check passes, one quarantines 3 rows, one warns at 7.5 % NULLs.
    w.engine.script(
      judged(w.store, [
        result('min_rows', 'min_rows', 'pass', 120),
        result('not_null(email)', 'not_null', 'quarantine', 3),
        result('max_null_pct(phone)', 'max_null_pct', 'warn', 7.5),
      ]),
    );
    w.supervisor.trigger('orders', 'manual');
    await w.clock.advance(1_000);
    const text = await w.scrape();
    await promtoolCheck(text);
    expect(text).toContain(
      '# HELP etld_check_status Data quality check result of the latest run that judged the checks: 0 pass, 1 warn, 2 quarantine, 3 fail.',
    );
    expect(text).toContain('# TYPE etld_check_failures_total counter');
    const first = checks(samples(text));
    expect(first).toEqual([
      ['etld_check_failing_rows{check="not_null(email)",pipeline="orders"}', 3],
      ['etld_check_failures_total{check="max_null_pct(phone)",pipeline="orders",status="warn"}', 1],
      ['etld_check_failures_total{check="min_rows",pipeline="orders",status="fail"}', 0],
      ['etld_check_failures_total{check="not_null(email)",pipeline="orders",status="quarantine"}', 1],
      ['etld_check_status{check="max_null_pct(phone)",pipeline="orders"}', 1],
      ['etld_check_status{check="min_rows",pipeline="orders"}', 0],
      ['etld_check_status{check="not_null(email)",pipeline="orders"}', 2],
    ]);

    // Run 2 is in progress, then fails before its checks: the last judgement keeps showing.
    const running = controllable();
    w.engine.script(running.script);
    w.supervisor.trigger('orders', 'manual');
    await w.clock.advance(1_000);
    expect(checks(samples(await w.scrape()))).toEqual(first);
    running.failWith(new EtlError('SOURCE_PERMISSION', 'permission denied for table orders'));
    await w.clock.advance(1_000);
    expect(w.store.getRun('orders-2-1')).toMatchObject({ status: 'failed', checks: [] });
    expect(checks(samples(await w.scrape()))).toEqual(first);

    // Run 3: a check fails (nothing committed). Its results replace the earlier ones; counters keep counting.
    w.engine.script(
      judged(w.store, [
        result('min_rows', 'min_rows', 'pass', 118),
        result('unique(id)', 'unique', 'fail', 4),
      ]),
    );
    w.supervisor.trigger('orders', 'manual');
    await w.clock.advance(1_000);
    expect(w.store.getRun('orders-3-1')).toMatchObject({ status: 'failed', errorCode: 'CHECK_FAILED' });
    const third = samples(await w.scrape());
    expect(third.get('etld_check_status{check="unique(id)",pipeline="orders"}')).toBe(3);
    expect(third.get('etld_check_failing_rows{check="unique(id)",pipeline="orders"}')).toBe(4);
    expect(third.get('etld_check_failures_total{check="unique(id)",pipeline="orders",status="fail"}')).toBe(
      1,
    );
    expect(third.get('etld_check_status{check="not_null(email)",pipeline="orders"}')).toBeUndefined();
    expect(
      third.get('etld_check_failures_total{check="not_null(email)",pipeline="orders",status="quarantine"}'),
    ).toBe(1);
    expect(checks(third).some(([k]) => k.includes('pipeline="billing"'))).toBe(false);

    // Run 4 succeeds without checks (they were removed from the file): the gauges go.
    w.engine.script(succeed(5));
    w.supervisor.trigger('orders', 'manual');
    await w.clock.advance(1_000);
    const fourth = samples(await w.scrape());
    expect(checks(fourth).filter(([k]) => !k.startsWith('etld_check_failures_total'))).toEqual([]);
  });

  it('a stale pipeline shows in /metrics once the fake clock passes its freshness', async () => {
    const w = await world();
    w.supervisor.setPipelines([pipeline('orders', { freshness: '2h' })], []);
    w.freshness.setPipelines([pipeline('orders', { freshness: '2h' })]);
    w.supervisor.start();
    w.freshness.start(w.events);
    w.engine.script(succeed(3));
    w.supervisor.trigger('orders', 'manual');
    await w.clock.advance(1_000);
    expect(samples(await w.scrape()).get('etld_pipeline_stale{pipeline="orders"}')).toBe(0);
    await w.clock.advance(2 * 3_600_000);
    const m = samples(await w.scrape());
    expect(m.get('etld_pipeline_stale{pipeline="orders"}')).toBe(1);
    expect(m.get('etld_pipeline_state{pipeline="orders",state="idle"}')).toBe(1);
  });

  it('counts waits for a source slot per host', async () => {
    const w = await world();
    const first = await w.governor.acquire('db1:5432', new AbortController().signal);
    let waited = false;
    const second = w.governor.acquire('db1:5432', new AbortController().signal, () => (waited = true));
    expect(waited).toBe(true);
    let m = samples(await w.scrape());
    expect(m.get('etld_source_slots_in_use{host="db1:5432"}')).toBe(1);
    expect(m.get('etld_source_slot_waiters{host="db1:5432"}')).toBe(1);
    expect(m.get('etld_source_slot_waits_total{host="db1:5432"}')).toBe(1);
    await w.clock.advance(20);
    first();
    (await second)();
    m = samples(await w.scrape());
    expect(m.get('etld_source_slot_wait_seconds_total{host="db1:5432"}')).toBeGreaterThan(0.01);
    expect(m.get('etld_source_slot_waiters{host="db1:5432"}')).toBeUndefined();
  });

  it('guards /metrics with the bearer token; /healthz and /readyz answer without it', async () => {
    const w = await world();
    const open = await fetch(w.url('/metrics'));
    expect(open.status).toBe(401);
    expect(open.headers.get('www-authenticate')).toBe('Bearer realm="etld"');
    const wrong = await fetch(w.url('/metrics'), { headers: { Authorization: 'Bearer nope' } });
    expect(wrong.status).toBe(401);
    expect(await (await fetch(w.url('/healthz'))).text()).toBe('ok\n');
    const starting = await fetch(w.url('/readyz'));
    expect([starting.status, await starting.text()]).toEqual([503, 'not ready: starting\n']);
    w.setReady({ ready: true });
    const ready = await fetch(w.url('/readyz'));
    expect([ready.status, await ready.text()]).toEqual([200, 'ready\n']);
    expect((await fetch(w.url('/other'))).status).toBe(404);
    expect((await fetch(w.url('/metrics'), { method: 'POST' })).status).toBe(405);
  });

  it('the promtool check is a real one: it refuses a gauge named like a counter and a broken line', async () => {
    await expect(promtoolCheck('# HELP x_total A gauge.\n# TYPE x_total gauge\nx_total 1\n')).rejects.toThrow(
      /non-counter metrics should not have "_total" suffix/,
    );
    await expect(promtoolCheck('etld_runs_total{pipeline="a" 1\n')).rejects.toThrow(
      /promtool check metrics failed/,
    );
  });

  it('reads watermark times of every shape the engine writes, and nothing else', () => {
    expect(watermarkTimeMs('2026-05-21 09:00:00+00')).toBe(Date.parse('2026-05-21T09:00:00Z'));
    expect(watermarkTimeMs('2026-05-21 09:00:00.123456+00')).toBe(Date.parse('2026-05-21T09:00:00.123Z'));
    expect(watermarkTimeMs('2026-05-21 09:00:00')).toBe(Date.parse('2026-05-21T09:00:00Z'));
    expect(watermarkTimeMs('2026-05-21T11:00:00+02:00')).toBe(Date.parse('2026-05-21T09:00:00Z'));
    expect(watermarkTimeMs('2026-05-21 01:00:00-0800')).toBe(Date.parse('2026-05-21T09:00:00Z'));
    expect(watermarkTimeMs('2026-05-21')).toBe(Date.parse('2026-05-21T00:00:00Z'));
    for (const other of ['18446', '12.5', 'abc', '', '2026-13', 'infinity'])
      expect(watermarkTimeMs(other), other).toBeNull();
  });

  it('a failing /metrics source answers 500 without crashing the endpoint', async () => {
    const http = new HttpEndpoint({
      host: '127.0.0.1',
      port: 0,
      token: null,
      metrics: {
        render: () => Promise.reject(new EtlError('STATE_STORE', 'disk I/O error')),
        contentType: 'text/plain',
      },
      readiness: () => ({ ready: true }),
      logger: new FanoutLogger([]),
    });
    await http.start();
    cleanups.push(() => http.close());
    const response = await fetch(`http://127.0.0.1:${http.address.port}/metrics`);
    expect(response.status).toBe(500);
    expect((await fetch(`http://127.0.0.1:${http.address.port}/healthz`)).status).toBe(200);
  });
});
