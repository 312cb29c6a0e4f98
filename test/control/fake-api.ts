import type { DaemonApi } from '../../daemon/control/api.js';
import { EventBus } from '../../daemon/events/event-bus.js';
import { EtlError } from '../../shared/errors.js';
import type {
  CheckResult,
  LogLine,
  MethodParams,
  MethodResult,
  PipelineSummary,
  RunRecord,
} from '../../shared/protocol.js';

function sampleRun(pipeline: string, n: number, overrides: Partial<RunRecord> = {}): RunRecord {
  return {
    id: `${pipeline}-run-${n}`,
    pipeline,
    status: 'succeeded',
    trigger: 'schedule',
    attempt: 1,
    sequence: n,
    started_at: `2026-03-0${n}T02:00:00.000Z`,
    finished_at: `2026-03-0${n}T02:01:00.000Z`,
    rows_extracted: 1000 * n,
    rows_loaded: 1000 * n,
    bytes: 50_000 * n,
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

/** One check per status, with each unit `observed` comes in: rows, a percentage, an age in seconds. */
export const SAMPLE_CHECKS: readonly CheckResult[] = [
  {
    name: 'min_rows',
    type: 'min_rows',
    status: 'pass',
    on_fail: 'fail',
    observed: 2000,
    threshold: '≥ 1 rows',
    detail: 'min_rows: the batch has 2,000 rows',
  },
  {
    name: 'not_null(email)',
    type: 'not_null',
    status: 'warn',
    on_fail: 'warn',
    observed: 3,
    threshold: '0 rows',
    detail: 'not_null(email): 3 rows have a NULL email',
  },
  {
    name: 'range(amount)',
    type: 'range',
    status: 'quarantine',
    on_fail: 'quarantine',
    observed: 1,
    threshold: '0 rows',
    detail: 'range(amount): 1 row has amount outside 0..10000 and went to the quarantine table',
  },
  {
    name: 'max_null_pct(phone)',
    type: 'max_null_pct',
    status: 'fail',
    on_fail: 'fail',
    observed: 7.5,
    threshold: '≤ 5 %',
    detail: 'max_null_pct(phone): 7.5 % of rows have a NULL phone',
  },
  {
    name: 'freshness(updated_at)',
    type: 'freshness_column',
    status: 'pass',
    on_fail: 'warn',
    observed: 3600,
    threshold: 'age ≤ 2h',
    detail: 'freshness(updated_at): the newest updated_at is 1h old',
  },
];

const sampleCheck = (name: string): CheckResult => {
  const found = SAMPLE_CHECKS.find((c) => c.name === name);
  if (!found) throw new Error(`no sample check ${name}`);
  return found;
};

function samplePipeline(name: string, overrides: Partial<PipelineSummary> = {}): PipelineSummary {
  return {
    name,
    state: 'idle',
    paused: false,
    schedule: '0 */2 * * *',
    schedule_human: 'every 2 hours',
    timezone: 'UTC',
    next_run_at: '2026-03-05T04:00:00.000Z',
    last_run: sampleRun(name, 3),
    description: `${name} from the shop`,
    source: 'postgres',
    destination: 'duckdb',
    mode: 'incremental',
    file: `/etc/etld/pipelines/${name}.yaml`,
    problems: [],
    ...overrides,
  };
}

/**
 * A DaemonApi with canned data, for tests of the control socket and the CLI. `start` plays a
 * short run through the event bus: pipeline "bad" fails, every other pipeline succeeds.
 */
export class FakeApi implements DaemonApi {
  readonly events = new EventBus();
  readonly calls: string[] = [];
  pipelines: PipelineSummary[] = [
    samplePipeline('orders'),
    samplePipeline('users', {
      paused: true,
      state: 'paused',
      schedule: null,
      next_run_at: null,
      last_run: null,
    }),
  ];
  logLines: LogLine[] = [
    {
      ts: '2026-03-04T10:00:00.000Z',
      level: 'info',
      pipeline: 'orders',
      run_id: 'orders-run-3',
      message: 'run started',
    },
    {
      ts: '2026-03-04T10:00:01.000Z',
      level: 'error',
      pipeline: 'orders',
      run_id: 'orders-run-3',
      message: 'shard s2 failed: timeout',
    },
    {
      ts: '2026-03-04T10:00:02.000Z',
      level: 'info',
      pipeline: 'users',
      run_id: null,
      message: 'paused by operator',
    },
  ];
  /** Delay before `list` answers (to keep requests in flight). */
  listDelayMs = 0;
  /** When set, `info` returns this instead of a valid result (to test result validation). */
  brokenInfo = false;
  /** Blocks `plan` adds to its answer: `files` (a files source) and `cost` (a BigQuery destination). */
  planExtras: Partial<Pick<MethodResult<'plan'>, 'files' | 'cost'>> = {};
  #runs = 10;
  /** Runs `start` played: their status as the played events left it (what `run` answers). */
  readonly #played = new Map<string, RunRecord['status']>();

  #find(name: string): PipelineSummary {
    const found = this.pipelines.find((p) => p.name === name);
    if (!found) throw new EtlError('NOT_FOUND', `no pipeline named "${name}"`);
    return found;
  }

  async list(): Promise<MethodResult<'list'>> {
    this.calls.push('list');
    if (this.listDelayMs > 0) await new Promise((r) => setTimeout(r, this.listDelayMs));
    return this.pipelines;
  }
  status(params: MethodParams<'status'>): Promise<MethodResult<'status'>> {
    const p = this.#find(params.pipeline);
    return Promise.resolve({
      ...p,
      current_run: null,
      stats: {
        runs_24h: 12,
        failures_24h: 1,
        success_rate_24h: 0.9167,
        runs_7d: 80,
        failures_7d: 2,
        success_rate_7d: 0.975,
        mean_duration_s: 61.5,
        last_error: { code: 'SOURCE_TIMEOUT', message: 'shard s2 timed out' },
        last_success_at: '2026-03-04T02:01:00.000Z',
      },
      config: { name: p.name },
      why: ['next run at 2026-03-05T04:00:00Z (cron 0 */2 * * *)'],
      watermarks: [
        {
          shard: 'default',
          value: '2026-03-04 00:00:00',
          sequence: 4,
          updated_at: '2026-03-04T12:00:00.000Z',
        },
      ],
    });
  }
  info(): Promise<MethodResult<'info'>> {
    if (this.brokenInfo) return Promise.resolve({ version: 42 } as unknown as MethodResult<'info'>);
    return Promise.resolve({
      version: '0.1.0-test',
      protocol: 1,
      host: 'testhost',
      pid: 4242,
      started_at: '2026-03-04T00:00:00.000Z',
      uptime_s: 3600,
      state: 'running',
      home: '/tmp/etld',
      pipelines: { idle: 1, paused: 1 },
      resources: null,
      watermarks: [
        {
          pipeline: 'orders',
          shard: 'default',
          value: '2026-03-04 00:00:00',
          sequence: 4,
          updated_at: '2026-03-04T12:00:00.000Z',
        },
      ],
    });
  }
  /** What `hosts` answers: this daemon alone, unless a test sets a fleet. */
  fleet: MethodResult<'hosts'> = {
    fleet: false,
    this_host: 'testhost',
    hosts: [
      {
        host: 'testhost',
        pid: 4242,
        version: '0.1.0-test',
        started_at: '2026-03-04T00:00:00.000Z',
        heartbeat_at: '2026-03-04T12:00:00.000Z',
        health: 'alive',
        running: [],
      },
    ],
  };
  hosts(): Promise<MethodResult<'hosts'>> {
    this.calls.push('hosts');
    return Promise.resolve(this.fleet);
  }
  start(params: MethodParams<'start'>): Promise<MethodResult<'start'>> {
    this.#find(params.pipeline);
    const runId = `${params.pipeline}-run-${++this.#runs}`;
    const pipeline = params.pipeline;
    const fails = pipeline === 'bad';
    const at = '2026-03-04T12:00:00.000Z';
    this.#played.set(runId, 'running');
    const steps: (() => void)[] = [
      () =>
        this.events.emit('run.state', {
          run_id: runId,
          attempt_id: `${runId}-1`,
          pipeline,
          status: 'running',
          attempt: 1,
          at,
          rows_loaded: 0,
          error: null,
        }),
      () =>
        this.events.emit('run.progress', {
          run_id: runId,
          attempt_id: `${runId}-1`,
          pipeline,
          rows: 500,
          bytes: 20_000,
          rows_per_s: 250,
          phase: 'extracting',
          parts: [
            {
              id: 'p1',
              shard: 's1',
              chunk: null,
              status: 'done',
              rows: 300,
              bytes: 12_000,
              rows_per_s: 150,
              estimated_rows: 300,
              error: null,
            },
            {
              id: 'p2',
              shard: 's2',
              chunk: null,
              status: 'running',
              rows: 200,
              bytes: 8_000,
              rows_per_s: 100,
              estimated_rows: 400,
              error: null,
            },
          ],
        }),
      () => {
        this.#played.set(runId, fails ? 'failed' : 'succeeded');
        this.events.emit('run.state', {
          run_id: runId,
          attempt_id: `${runId}-1`,
          pipeline,
          status: fails ? 'failed' : 'succeeded',
          attempt: 1,
          at,
          rows_loaded: fails ? 0 : 700,
          error: fails ? { code: 'SOURCE_CONNECTION', message: 'db2:5432 refused the connection' } : null,
        });
      },
    ];
    steps.forEach((step, i) => setTimeout(step, 30 * (i + 1)));
    return Promise.resolve({
      run_id: runId,
      pipeline,
      kind: params.full_refresh ? ('full_refresh' as const) : ('normal' as const),
    });
  }
  backfill(params: MethodParams<'backfill'>): Promise<MethodResult<'backfill'>> {
    this.#find(params.pipeline);
    if (params.from >= params.to) throw new EtlError('USAGE', `--from must be below --to`);
    return Promise.resolve({
      run_id: `${params.pipeline}-run-${++this.#runs}`,
      pipeline: params.pipeline,
      from: params.from,
      to: params.to,
      shard: params.shard ?? null,
    });
  }
  runs(params: MethodParams<'runs'>): Promise<MethodResult<'runs'>> {
    const all = this.pipelines.flatMap((p) => [
      sampleRun(p.name, 2, { status: 'failed', error: { code: 'SOURCE_TIMEOUT', message: 'timed out' } }),
      sampleRun(p.name, 1),
    ]);
    return Promise.resolve(
      all
        .filter((r) => params.pipeline === undefined || r.pipeline === params.pipeline)
        .filter((r) => params.status === undefined || params.status.includes(r.status))
        .slice(0, params.limit),
    );
  }
  changes(params: MethodParams<'changes'>): Promise<MethodResult<'changes'>> {
    this.#find(params.pipeline);
    return Promise.resolve([
      {
        at: '2026-03-04T12:00:00.000Z',
        action: 'set',
        by: 'alice (etlctl/0.1.0, unix)',
        shards: [{ shard: 'default', old: '2026-03-01 00:00:00', new: '2026-03-04 00:00:00' }],
        detail: 'every shard set to 2026-03-04 00:00:00',
      },
    ]);
  }
  stop(params: MethodParams<'stop'>): Promise<MethodResult<'stop'>> {
    this.#find(params.pipeline);
    return Promise.resolve({ run_id: null, stopped: false });
  }
  pause(params: MethodParams<'pause'>): Promise<MethodResult<'pause'>> {
    this.#find(params.pipeline).paused = true;
    return Promise.resolve({ pipeline: params.pipeline, paused: true });
  }
  resume(params: MethodParams<'resume'>): Promise<MethodResult<'resume'>> {
    this.#find(params.pipeline).paused = false;
    return Promise.resolve({ pipeline: params.pipeline, paused: false });
  }
  history(params: MethodParams<'history'>): Promise<MethodResult<'history'>> {
    this.#find(params.pipeline);
    // Run 2 failed before its checks were reached, so it has none.
    const runs = [
      sampleRun(params.pipeline, 3, {
        checks: ['min_rows', 'not_null(email)', 'range(amount)'].map(sampleCheck),
      }),
      sampleRun(params.pipeline, 2, {
        status: 'failed',
        rows_loaded: 0,
        verdict: null,
        error: { code: 'SOURCE_TIMEOUT', message: 'shard s2 timed out' },
      }),
      sampleRun(params.pipeline, 1, { checks: [sampleCheck('min_rows')] }),
    ];
    return Promise.resolve(runs.slice(0, params.limit));
  }
  run(params: MethodParams<'run'>): Promise<MethodResult<'run'>> {
    const match = /^(.+)-run-(\d+)$/.exec(params.run_id);
    if (!match) throw new EtlError('NOT_FOUND', `no run "${params.run_id}"`);
    // Every run looked up failed on its checks, so one detail shows each check status.
    const played = this.#played.get(params.run_id);
    const run = sampleRun(match[1] ?? '', Number(match[2]) % 9 || 1, {
      id: params.run_id,
      status: played ?? 'failed',
      rows_loaded: 0,
      verdict: null,
      error: { code: 'CHECK_FAILED', message: 'max_null_pct(phone) failed: 7.5 % of rows have a NULL phone' },
      checks: [...SAMPLE_CHECKS],
    });
    return Promise.resolve({
      ...run,
      parts: [],
      watermark_from: '2026-03-01',
      watermark_to: '2026-03-02',
      stages: { prepare: 0.1, extract: 1.2, load: 2.5, settle: 0.1, commit: 0.3 },
      attempts: [],
      notes: [],
    });
  }
  logs(params: MethodParams<'logs'>): Promise<MethodResult<'logs'>> {
    const lines = this.logLines.filter(
      (l) =>
        (params.pipeline === undefined || l.pipeline === params.pipeline) &&
        (!params.errors_only || l.level === 'error') &&
        (params.run_id === undefined || l.run_id === params.run_id) &&
        (params.grep === undefined || new RegExp(params.grep).test(l.message)),
    );
    return Promise.resolve({
      lines: params.lines === 0 ? [] : lines.slice(-params.lines),
      following: params.follow,
    });
  }
  reload(): Promise<MethodResult<'reload'>> {
    return Promise.resolve({ added: ['new_one'], changed: ['orders'], removed: [], invalid: [] });
  }
  validate(params: MethodParams<'validate'>): Promise<MethodResult<'validate'>> {
    if (!params.sources) return Promise.resolve({ valid: ['orders', 'users'], problems: [] });
    return Promise.resolve({
      valid: ['orders'],
      problems: ['/etc/etld/pipelines/users.yaml: source: table public.users does not exist'],
    });
  }
  problems(): Promise<MethodResult<'problems'>> {
    return Promise.resolve([]);
  }
  why(params: MethodParams<'why'>): Promise<MethodResult<'why'>> {
    const p = this.#find(params.pipeline);
    return Promise.resolve({
      pipeline: p.name,
      next_run_at: p.next_run_at,
      lines: p.paused ? ['paused by an operator'] : ['next run by schedule'],
    });
  }
  /** What `tables` answers per pipeline; a pipeline not in it has no multi-table run. */
  runTables = new Map<string, MethodResult<'tables'>>();
  tables(params: MethodParams<'tables'>): Promise<MethodResult<'tables'>> {
    this.#find(params.pipeline);
    return Promise.resolve(
      this.runTables.get(params.pipeline) ?? { pipeline: params.pipeline, sequence: null, tables: [] },
    );
  }
  plan(params: MethodParams<'plan'>): Promise<MethodResult<'plan'>> {
    this.#find(params.pipeline);
    return Promise.resolve({
      pipeline: params.pipeline,
      mode: 'incremental',
      watermark_from: '2026-03-01',
      watermark_to: '2026-03-02',
      parts: [
        {
          shard: 's1',
          chunk: null,
          sql: 'SELECT id FROM orders WHERE updated_at > $1',
          estimated_rows: 1200,
        },
      ],
      schema_diff: [{ column: 'note', change: 'add', detail: 'text' }],
      destination: 'duckdb:/tmp/lake.db#orders',
      notes: [],
      checks: [],
      check_sample_rows: 0,
      ...this.planExtras,
    });
  }
  preview(params: MethodParams<'preview'>): Promise<MethodResult<'preview'>> {
    this.#find(params.pipeline);
    return Promise.resolve({
      columns: [
        { name: 'id', type: 'int64' },
        { name: 'name', type: 'text' },
      ],
      rows: [
        ['1', 'Ann'],
        ['2', null],
      ].slice(0, params.limit),
    });
  }
  vacuum(params: MethodParams<'vacuum'>): Promise<MethodResult<'vacuum'>> {
    this.#find(params.pipeline);
    return Promise.resolve({
      files: params.dry_run ? ['part-0001.parquet'] : [],
      bytes: params.dry_run ? 1024 : 0,
    });
  }
  pipeline_file(params: MethodParams<'pipeline_file'>): Promise<MethodResult<'pipeline_file'>> {
    const p = this.#find(params.pipeline);
    const text = `name: ${p.name}\nschedule: "${p.schedule ?? 'manual'}"\n`;
    return Promise.resolve({
      pipeline: p.name,
      file: p.file,
      text,
      bytes: text.length,
      modified_at: '2026-03-04T00:00:00.000Z',
      truncated: false,
      masked: false,
    });
  }
  alerts(params: MethodParams<'alerts'>): Promise<MethodResult<'alerts'>> {
    const all: MethodResult<'alerts'> = [
      {
        id: 1,
        pipeline: 'orders',
        kind: 'failure',
        run_id: 'orders-run-2',
        created_at: '2026-03-04T02:00:00.000Z',
        status: 'sent',
        recipients: 'oncall@example.com',
        subject: '[etld] orders FAILED after 2 attempts: SOURCE_TIMEOUT',
        detail: null,
      },
    ];
    return Promise.resolve(
      all
        .filter((a) => params.pipeline === undefined || a.pipeline === params.pipeline)
        .slice(0, params.limit),
    );
  }
  watermark(params: MethodParams<'watermark'>): Promise<MethodResult<'watermark'>> {
    this.#find(params.pipeline);
    const value = params.action === 'set' ? (params.value ?? '') : '2026-03-04 00:00:00';
    return Promise.resolve({
      pipeline: params.pipeline,
      committed_sequence: 4,
      destination_sequence: 4,
      watermarks:
        params.action === 'reset'
          ? []
          : [
              {
                shard: 'default',
                value,
                boundary_rows: 2,
                sequence: 4,
                updated_at: '2026-03-04T12:00:00.000Z',
              },
            ],
      changes:
        params.action === 'show'
          ? []
          : [
              {
                at: '2026-03-04T12:00:00.000Z',
                action: params.action,
                by: 'alice (etlctl/0.1.0, unix)',
                shards: [
                  {
                    shard: 'default',
                    old: '2026-03-04 00:00:00',
                    new: params.action === 'set' ? value : null,
                  },
                ],
                detail: `${params.action} by a test`,
              },
            ],
    });
  }
  /** Every pipeline here reads tables, so its file ledger is empty, as a daemon would say. */
  files(params: MethodParams<'files'>): Promise<MethodResult<'files'>> {
    this.#find(params.pipeline);
    return Promise.resolve({
      pipeline: params.pipeline,
      files: [],
      totals: { loaded: 0, quarantined: 0, loaded_bytes: 0, last_recorded_at: null },
      next_after: null,
    });
  }
  /** Every pipeline here reads tables: no pending files, refused as a daemon refuses it. */
  files_pending(params: MethodParams<'files_pending'>): Promise<MethodResult<'files_pending'>> {
    this.#find(params.pipeline);
    return Promise.reject(
      new EtlError(
        'USAGE',
        `pipeline ${params.pipeline} has no files source: only a files source has pending files`,
      ),
    );
  }
  files_forget(params: MethodParams<'files_forget'>): Promise<MethodResult<'files_forget'>> {
    this.#find(params.pipeline);
    return Promise.resolve({ pipeline: params.pipeline, forgotten: 0, not_recorded: params.keys ?? [] });
  }
  test(params: MethodParams<'test'>): Promise<MethodResult<'test'>> {
    this.#find(params.pipeline);
    return Promise.resolve({
      pipeline: params.pipeline,
      ok: true,
      source: 'postgres public.orders',
      destination: 'duckdb /lake/orders.duckdb table orders',
      mode: 'incremental',
      checks: [
        {
          target: 'source',
          shard: 'default',
          check: 'connect',
          status: 'ok',
          detail: 'connected',
          code: null,
          duration_ms: 3,
        },
      ],
    });
  }
}
