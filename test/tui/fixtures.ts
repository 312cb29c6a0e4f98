/** Protocol-shaped test data with sensible defaults. */
import type {
  CheckResult,
  DaemonInfo,
  LogLine,
  PipelineStatus,
  PipelineSummary,
  RunPart,
  RunRecord,
} from '../../shared/protocol.js';

export const NOW = Date.parse('2026-03-10T12:00:00Z');

export function iso(offsetSeconds: number): string {
  return new Date(NOW + offsetSeconds * 1000).toISOString();
}

export function run(overrides: Partial<RunRecord> = {}): RunRecord {
  return {
    id: 'run-1',
    pipeline: 'orders',
    status: 'succeeded',
    trigger: 'schedule',
    attempt: 1,
    sequence: 1,
    started_at: iso(-600),
    finished_at: iso(-540),
    rows_extracted: 1200,
    rows_loaded: 1200,
    bytes: 10_000,
    rows_excluded: 0,
    verdict: 'match',
    error: null,
    first_failure_at: null,
    checks: [],
    kind: 'normal',
    backfill: null,
    requested_by: null,
    ...overrides,
  };
}

export function check(overrides: Partial<CheckResult> = {}): CheckResult {
  return {
    name: 'min_rows',
    type: 'min_rows',
    status: 'pass',
    on_fail: 'fail',
    observed: 1200,
    threshold: '≥ 1 rows',
    detail: 'min_rows: the batch has 1,200 rows',
    ...overrides,
  };
}

/** One check per status, in the order a pipeline file might list them (passing ones first). */
export function checksOfEveryStatus(): CheckResult[] {
  return [
    check(),
    check({
      name: 'freshness(updated_at)',
      type: 'freshness_column',
      on_fail: 'warn',
      observed: 3600,
      threshold: 'age ≤ 2h',
      detail: 'freshness(updated_at): the newest updated_at is 1h old',
    }),
    check({
      name: 'not_null(email)',
      type: 'not_null',
      status: 'warn',
      on_fail: 'warn',
      observed: 3,
      threshold: '0 rows',
      detail: 'not_null(email): 3 rows have a NULL email',
    }),
    check({
      name: 'range(amount)',
      type: 'range',
      status: 'quarantine',
      on_fail: 'quarantine',
      observed: 1,
      threshold: '0 rows',
      detail: 'range(amount): 1 row has amount outside 0..10000 and went to the quarantine table',
    }),
    check({
      name: 'max_null_pct(phone)',
      type: 'max_null_pct',
      status: 'fail',
      observed: 7.5,
      threshold: '≤ 5 %',
      detail: 'max_null_pct(phone): 7.5 % of rows have a NULL phone',
    }),
  ];
}

export function pipeline(overrides: Partial<PipelineSummary> = {}): PipelineSummary {
  return {
    name: 'orders',
    state: 'idle',
    paused: false,
    schedule: '0 */2 * * *',
    schedule_human: null,
    timezone: 'UTC',
    next_run_at: iso(37 * 60),
    last_run: run(),
    description: null,
    source: 'postgres',
    destination: 'duckdb',
    mode: 'incremental',
    file: '/etc/etld/pipelines/orders.yaml',
    problems: [],
    ...overrides,
  };
}

export function part(overrides: Partial<RunPart> = {}): RunPart {
  return {
    id: 'p0',
    shard: null,
    chunk: 0,
    status: 'running',
    rows: 500,
    bytes: 1000,
    rows_per_s: 100,
    estimated_rows: 1000,
    error: null,
    ...overrides,
  };
}

export function info(overrides: Partial<DaemonInfo> = {}): DaemonInfo {
  return {
    version: '0.1.0',
    protocol: 1,
    host: 'etl-host-1',
    pid: 4242,
    started_at: iso(-7380),
    uptime_s: 7380,
    state: 'running',
    home: '/tmp/etld',
    pipelines: {},
    watermarks: [],
    resources: {
      cpu_percent: 12.4,
      load_avg: [0.5, 0.4, 0.3],
      mem_total_bytes: 16 * 1024 ** 3,
      mem_used_bytes: 4 * 1024 ** 3,
      rss_bytes: 80 * 1024 ** 2,
      event_loop_lag_ms: 1,
      disks: [
        {
          label: 'lake',
          path: '/var/lib/etld/lake',
          free_bytes: 120 * 1024 ** 3,
          total_bytes: 500 * 1024 ** 3,
        },
      ],
    },
    ...overrides,
  };
}

export function status(summary: PipelineSummary, overrides: Partial<PipelineStatus> = {}): PipelineStatus {
  return {
    ...summary,
    current_run: null,
    watermarks: [],
    stats: {
      runs_24h: 4,
      failures_24h: 1,
      success_rate_24h: 0.75,
      runs_7d: 20,
      failures_7d: 2,
      success_rate_7d: 0.9,
      mean_duration_s: 62,
      last_error: null,
      last_success_at: iso(-540),
    },
    config: {
      source: { table: 'public.orders', key: ['id'], chunk_rows: 100000 },
      load: { cursor: 'updated_at' },
    },
    why: ['next run at 12:37 (in 37 min) by schedule "0 */2 * * *"'],
    ...overrides,
  };
}

export function logLine(message: string, overrides: Partial<LogLine> = {}): LogLine {
  return { ts: iso(0), level: 'info', pipeline: 'orders', run_id: 'run-1', message, ...overrides };
}
