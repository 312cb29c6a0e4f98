/**
 * The control-socket wire protocol, defined once. Daemon, etlctl and etl-console import these
 * schemas and validate every frame they receive; TypeScript types are derived from the schemas.
 *
 * Frames are JSON text messages:
 *   client → daemon  {type:'hello', version, client}
 *                    {type:'request', id, method, params}
 *   daemon → client  {type:'hello', version, daemon}
 *                    {type:'reply', id, result} | {type:'reply', id, error:{code,message,retryable}}
 *                    {type:'event', event, data}        (after `subscribe`, or for a following `logs`)
 * Keys inside results are snake_case: `etlctl --json` prints them unchanged.
 */
import { z } from 'zod';
import { ERROR_CODES } from './errors.js';
import {
  pendingFilesSchema,
  SOURCE_FILE_STATUSES,
  sourceFileForgetSchema,
  sourceFileKey,
  sourceFileListingSchema,
} from './protocol-files.js';
import { fleetHostsSchema } from './protocol-hosts.js';
import { runTablesSchema } from './protocol-tables.js';
import {
  ALERT_KINDS,
  FILE_STATUSES,
  PIPELINE_STATES,
  RUN_KINDS,
  RUN_STATUSES,
  RUN_TRIGGERS,
} from './types.js';

export const PROTOCOL_VERSION = 1;

const isoTime = z.string().describe('An ISO-8601 time in UTC');
const nullableIso = isoTime.nullable();
const pipelineName = z.string().min(1).max(200);
/** A time in a request: anything `Date.parse` reads (clients send ISO-8601 UTC). */
const isoParam = z
  .string()
  .max(100)
  .refine((text) => !Number.isNaN(Date.parse(text)), { message: 'expected an ISO-8601 time' });
/** A cursor value as an operator writes it; the daemon checks it against the cursor column's type. */
const cursorValue = z.string().min(1).max(1000);

export const serializedErrorSchema = z.object({
  code: z.enum(ERROR_CODES),
  message: z.string(),
  retryable: z.boolean(),
});

// ---------------------------------------------------------------- records

export const runErrorSchema = z.object({ code: z.enum(ERROR_CODES), message: z.string() }).nullable();

/**
 * One data quality check's result on a run's batch (`checks:` of the pipeline file). `status`:
 * `pass`; `fail` (the run failed before its commit; what it had written was removed); `warn` (committed and alerted);
 * `quarantine` (the failing rows went to the quarantine table, the others were committed).
 */
export const checkResultSchema = z.object({
  name: z.string(),
  type: z.string(),
  status: z.enum(['pass', 'warn', 'fail', 'quarantine']),
  on_fail: z.enum(['fail', 'warn', 'quarantine']),
  observed: z
    .number()
    .nullable()
    .describe(
      "What was measured: failing rows, the row count, a percentage, an age in seconds; null when nothing could be (an empty batch's newest value)",
    ),
  threshold: z.string().describe("The limit in the operator's terms, e.g. `0 rows`, `≤ 5 %`, `age ≤ 2h`"),
  detail: z
    .string()
    .describe("One sentence naming the check, the column and the count; never a row's values"),
});
export type CheckResult = z.infer<typeof checkResultSchema>;

/**
 * One run: `<pipeline>-<sequence>`, from its first attempt to its final status. A failed attempt
 * that is retried leaves the run `retrying`, then `running` again; `failed` is final. `attempt` is
 * the latest attempt's number; the figures are the latest attempt's.
 */
export const runRecordSchema = z.object({
  id: z.string().describe('`<pipeline>-<sequence>`'),
  pipeline: z.string(),
  status: z.enum(RUN_STATUSES),
  trigger: z.enum(RUN_TRIGGERS),
  attempt: z.number().int().describe("The latest attempt's number"),
  sequence: z.number().int().describe('The run sequence the destination records with the data'),
  started_at: nullableIso,
  finished_at: nullableIso,
  rows_extracted: z.number().int(),
  rows_loaded: z.number().int(),
  rows_excluded: z
    .number()
    .int()
    .describe('Source rows left out on purpose (NULL cursors under `load.null_cursor: exclude`)'),
  bytes: z.number().int(),
  verdict: z
    .enum(['match', 'mismatch', 'skipped', 'already_committed'])
    .nullable()
    .describe('The row-count reconciliation of the run'),
  error: runErrorSchema,
  first_failure_at: nullableIso.describe("When the run's first attempt failed (null while none has)"),
  checks: z
    .array(checkResultSchema)
    .describe(
      "The latest attempt's data quality checks (empty when the pipeline has none or they were not reached)",
    ),
  kind: z
    .enum(RUN_KINDS)
    .default('normal')
    .describe(
      'What the run loads: `normal`, `full_refresh` or `backfill` (daemons before 0.2 send none: normal)',
    ),
  backfill: z
    .object({ from: z.string(), to: z.string(), shard: z.string().nullable() })
    .nullable()
    .default(null)
    .describe("A backfill's cursor range `[from, to)` and shard (null: every shard); null for other kinds"),
  requested_by: z
    .string()
    .nullable()
    .default(null)
    .describe(
      'Who asked for the run, as their client reported it; null for scheduled runs and retries of them',
    ),
});
export type RunRecord = z.infer<typeof runRecordSchema>;

/** One attempt of a run: `<pipeline>-<sequence>-<attempt>` (log lines carry this id). */
export const runAttemptSchema = z.object({
  id: z.string(),
  attempt: z.number().int(),
  status: z.enum(RUN_STATUSES),
  trigger: z.enum(RUN_TRIGGERS),
  started_at: nullableIso,
  finished_at: nullableIso,
  rows_extracted: z.number().int(),
  rows_loaded: z.number().int(),
  error: runErrorSchema,
});
export type RunAttempt = z.infer<typeof runAttemptSchema>;

export const runPartSchema = z.object({
  id: z.string(),
  shard: z.string().nullable(),
  chunk: z.number().int().nullable(),
  status: z.enum(['pending', 'running', 'done', 'failed', 'cancelled']),
  rows: z.number().int(),
  bytes: z.number().int(),
  rows_per_s: z.number(),
  estimated_rows: z.number().int().nullable(),
  error: runErrorSchema,
});
export type RunPart = z.infer<typeof runPartSchema>;

export const runDetailSchema = runRecordSchema.extend({
  parts: z.array(runPartSchema).describe("The latest attempt's parts: one per shard or chunk"),
  watermark_from: z.string().nullable(),
  watermark_to: z.string().nullable(),
  attempts: z.array(runAttemptSchema),
  notes: z
    .array(z.string())
    .describe('What the operator should know: exclusions, skipped re-read rows, a held-back high-water mark'),
  stages: z
    .record(z.string(), z.number())
    .nullable()
    .describe(
      'CPU seconds by stage of the succeeded attempt (`prepare`, `extract`, `load`, `settle`, `commit`)',
    ),
});
export type RunDetail = z.infer<typeof runDetailSchema>;

export const pipelineSummarySchema = z.object({
  name: z.string(),
  state: z.enum(PIPELINE_STATES),
  paused: z.boolean(),
  schedule: z.string().nullable(),
  schedule_human: z.string().nullable(),
  timezone: z.string(),
  next_run_at: nullableIso,
  last_run: runRecordSchema.nullable(),
  description: z.string().nullable(),
  source: z.string().nullable(),
  destination: z.string().nullable(),
  mode: z.string().nullable(),
  file: z.string(),
  problems: z
    .array(z.string())
    .describe(
      'Every problem of its file, as `file:line:col path: message`: for `invalid` pipelines and for those running their last good version (`file_status: last_good`); empty otherwise',
    ),
  /**
   * Whether what runs is what the file says: `ok`; `last_good` — the file became invalid in an
   * edit and the last good version keeps running until it is fixed and reloaded (`problems` says
   * why); `invalid` — nothing runs. Optional on the wire: daemons before 0.2 do not send it.
   */
  file_status: z.enum(FILE_STATUSES).optional(),
  /** What the load noticed without refusing the file (`file:line:col path: message`). Optional on the wire, like file_status. */
  warnings: z.array(z.string()).optional(),
  /**
   * Whether the pipeline's data is fresh (`freshness` in its file or `defaults.freshness`); null
   * without a freshness check. Optional on the wire: daemons before 0.2 do not send it.
   */
  freshness: z
    .object({
      threshold_s: z.number(),
      last_success_at: nullableIso.describe("The last successful run's end; null if it never succeeded"),
      stale: z.boolean(),
      stale_since: nullableIso.describe(
        'When it became stale (the last success plus the threshold, or start-up for a pipeline that never succeeded)',
      ),
    })
    .nullable()
    .optional()
    .describe('Whether the data is fresh (`freshness`); null without a freshness check'),
  /**
   * The host running the pipeline's current run (null: none runs). In a fleet it may be another
   * daemon than the one answering. Optional on the wire: daemons before fleet mode do not send it,
   * and the `pipelines.changed` event leaves it out.
   */
  host: z
    .string()
    .nullable()
    .optional()
    .describe("The host running the pipeline's current run; null when none runs"),
});
export type PipelineSummary = z.infer<typeof pipelineSummarySchema>;
export type PipelineFreshness = NonNullable<PipelineSummary['freshness']>;

export const pipelineStatsSchema = z.object({
  runs_24h: z.number().int(),
  failures_24h: z.number().int(),
  success_rate_24h: z.number().nullable(),
  runs_7d: z.number().int(),
  failures_7d: z.number().int(),
  success_rate_7d: z.number().nullable(),
  mean_duration_s: z.number().nullable(),
  last_error: runErrorSchema,
  last_success_at: nullableIso,
});
export type PipelineStats = z.infer<typeof pipelineStatsSchema>;

/** A stored incremental position of one shard (`default` for an unsharded source). */
export const watermarkValueSchema = z.object({
  shard: z.string(),
  value: z.string(),
  /** The run sequence that committed it (or an operator's change recorded at that sequence). */
  sequence: z.number().int(),
  updated_at: isoTime,
});
export type WatermarkValue = z.infer<typeof watermarkValueSchema>;

export const pipelineStatusSchema = pipelineSummarySchema.extend({
  current_run: runDetailSchema.nullable(),
  stats: pipelineStatsSchema,
  config: z.record(z.string(), z.unknown()).nullable(),
  why: z.array(z.string()),
  /** The pipeline's watermarks, one per shard; empty before its first run or for modes without one. */
  watermarks: z.array(watermarkValueSchema).default([]),
});
export type PipelineStatus = z.infer<typeof pipelineStatusSchema>;

export const resourcesSchema = z.object({
  cpu_percent: z.number().nullable(),
  load_avg: z.array(z.number()),
  mem_total_bytes: z.number(),
  mem_used_bytes: z.number(),
  rss_bytes: z.number(),
  event_loop_lag_ms: z.number().nullable(),
  disks: z.array(
    z.object({ label: z.string(), path: z.string(), free_bytes: z.number(), total_bytes: z.number() }),
  ),
});
export type Resources = z.infer<typeof resourcesSchema>;

export const daemonInfoSchema = z.object({
  version: z.string(),
  protocol: z.number().int(),
  host: z.string(),
  pid: z.number().int(),
  started_at: isoTime,
  uptime_s: z.number(),
  state: z.enum(['starting', 'running', 'draining', 'stopped']),
  home: z.string().nullable(),
  pipelines: z.record(z.string(), z.number().int()),
  resources: resourcesSchema.nullable(),
  /**
   * The configuration's problems in brief (`etlctl problems` has them all): files that do not
   * load, pipelines running their last good version with the first problem of their file, and
   * warnings. Optional on the wire: daemons before 0.2 do not send it.
   */
  config: z
    .object({
      /** Invalid files other than last good versions: files that do not load, and connections.yaml. */
      invalid_files: z.number().int(),
      /** Loaded pipeline files with warnings. */
      warnings: z.number().int(),
      last_good: z.array(z.object({ pipeline: z.string(), problem: z.string() })),
    })
    .optional(),
  /** Every pipeline's watermarks (pipelines that keep none are left out). */
  watermarks: z.array(watermarkValueSchema.extend({ pipeline: z.string() })).default([]),
});
export type DaemonInfo = z.infer<typeof daemonInfoSchema>;

/**
 * One file's problems, as `etlctl problems` lists them. `effect` says what runs: `not_running` —
 * nothing from this file; `last_good` — the pipeline's last good version; `running` — the
 * pipeline runs and these are warnings about what runs (for a last good version, that version's
 * warnings); null for connections.yaml (each pipeline naming a broken connection has its own entry).
 */
export const configProblemSchema = z.object({
  severity: z.enum(['error', 'warning']),
  /** The pipeline concerned (`name@file` for a second file claiming a name); null for connections.yaml. */
  pipeline: z.string().nullable(),
  file: z.string(),
  effect: z.enum(['not_running', 'last_good', 'running']).nullable(),
  /** Each as `file:line:col path: message`. */
  problems: z.array(z.string()),
});
export type ConfigProblemEntry = z.infer<typeof configProblemSchema>;

export const logLineSchema = z.object({
  ts: isoTime,
  level: z.enum(['error', 'warning', 'notice', 'info', 'debug']),
  pipeline: z.string().nullable(),
  run_id: z.string().nullable(),
  message: z.string(),
});
export type LogLine = z.infer<typeof logLineSchema>;

const singlePlanSchema = z.object({
  pipeline: z.string(),
  mode: z.string(),
  watermark_from: z.string().nullable(),
  watermark_to: z.string().nullable(),
  parts: z.array(
    z.object({
      shard: z.string().nullable(),
      chunk: z.number().int().nullable(),
      sql: z.string(),
      estimated_rows: z.number().nullable(),
    }),
  ),
  schema_diff: z.array(z.object({ column: z.string(), change: z.string(), detail: z.string() })),
  destination: z.string(),
  notes: z.array(z.string()),
  checks: z
    .array(checkResultSchema)
    .describe(
      "The data quality checks judged on a sample of the next batch (`check_sample_rows` rows read); row counts are the sample's",
    ),
  check_sample_rows: z.number().int(),
  files: z
    .object({
      count: z.number().int().describe('Files the next run loads'),
      bytes: z.number().describe('Their size in the store'),
      sample: z.array(z.string()).describe('The first of their keys, in load order'),
      truncated: z.boolean().describe('More new files than max_files_per_run: the rest wait for later runs'),
      listed: z
        .number()
        .int()
        .describe('Objects listed under the source url (narrowed to the pattern prefix)'),
      matched: z.number().int().describe('Of those, the ones matching the pattern'),
      already_loaded: z.number().int().describe('Matching files the ledger holds as loaded'),
      quarantined: z.number().int().describe('Files the next run would quarantine (on_bad_file: skip)'),
      estimated_rows: z
        .number()
        .int()
        .describe('Rows of the files: counted, or scaled from the first files by bytes'),
      rows_exact: z.boolean().describe('estimated_rows counted every file'),
    })
    .optional()
    .describe('A files source: the files the next run loads'),
  cost: z
    .object({
      load_bytes: z.number().describe('Bytes the load jobs carry (load jobs are not billed)'),
      query_bytes: z.number().describe('Bytes the queries of the load would process (estimated)'),
      price_per_tib: z.number().describe('defaults.bigquery_price_per_tib of etld.yaml'),
      estimated_usd: z.number().describe('query_bytes at price_per_tib'),
      detail: z.string().describe('What the estimate counts'),
    })
    .optional()
    .describe('A BigQuery destination: what the next load would bill'),
});

export const planSchema = singlePlanSchema.extend({
  tables: z
    .array(
      z.object({
        table: z.string().describe('The table as the source names it'),
        state_name: z.string().describe("The table's state name (`<pipeline>/<table>`)"),
        destination: z.string().describe('Where it loads (the rendered destination template)'),
        new: z.boolean().describe('No earlier run of the pipeline loaded this table'),
        problem: z
          .string()
          .nullable()
          .describe('Why the table cannot load as configured (it is refused by runs); null when it can'),
        plan: singlePlanSchema
          .nullable()
          .describe("The table's own plan (null when refused, or not planned)"),
      }),
    )
    .optional()
    .describe('A multi-table pipeline: each selected table (the top-level fields sum them up)'),
});
export type Plan = z.infer<typeof planSchema>;

export const previewSchema = z.object({
  columns: z.array(z.object({ name: z.string(), type: z.string() })),
  rows: z.array(z.array(z.string().nullable())),
});
export type Preview = z.infer<typeof previewSchema>;

/**
 * One operator change of a pipeline's state (`etlctl watermark set|reset`): when, by whom (the user
 * their client reported, the client and the connection), and each shard's value before and after.
 */
export const stateChangeSchema = z.object({
  at: isoTime,
  action: z.string(),
  /** e.g. `alice (etlctl/0.1.0, unix)`; null for changes recorded before etld 0.2. */
  by: z.string().nullable().default(null),
  /** Each shard the change touched: its watermark before and after (null: none). */
  shards: z
    .array(z.object({ shard: z.string(), old: z.string().nullable(), new: z.string().nullable() }))
    .default([]),
  detail: z.string(),
});
export type StateChange = z.infer<typeof stateChangeSchema>;

/** A pipeline's incremental position, as `etlctl watermark` shows and changes it. */
export const watermarkStateSchema = z.object({
  pipeline: z.string(),
  committed_sequence: z.number().int().describe('The highest sequence the state store records as committed'),
  destination_sequence: z
    .number()
    .int()
    .nullable()
    .describe('The highest sequence the destination holds (null: none); runs need the two to agree'),
  watermarks: z.array(
    z.object({
      shard: z.string(),
      value: z.string(),
      boundary_rows: z.number().int(),
      sequence: z.number().int(),
      updated_at: isoTime,
    }),
  ),
  changes: z.array(stateChangeSchema).describe('Operator changes, newest first'),
});
export type WatermarkState = z.infer<typeof watermarkStateSchema>;

/** One alert as the daemon recorded it (`:alerts` in the console): mail, webhook or Slack, sent or not. */
export const alertRecordSchema = z.object({
  id: z.number().int(),
  /** The pipeline, or `disk:<label>` for a host alert (low disk space). */
  pipeline: z.string(),
  kind: z.enum(ALERT_KINDS),
  run_id: z.string().nullable(),
  created_at: isoTime,
  status: z.enum(['sent', 'suppressed', 'failed', 'pending']),
  recipients: z.string(),
  subject: z.string(),
  /** Why it was suppressed or failed, or what was delivered where. */
  detail: z.string().nullable(),
});
export type AlertRecord = z.infer<typeof alertRecordSchema>;

/** A pipeline's YAML file as it is on disk (secret-looking values masked, as in every daemon output). */
export const pipelineFileSchema = z.object({
  pipeline: z.string(),
  file: z.string(),
  text: z.string(),
  bytes: z.number().int(),
  modified_at: nullableIso,
  /** The file is larger than the daemon sends: `text` is its beginning. */
  truncated: z.boolean(),
  /** Some value looked like a secret (a literal password, a URL with credentials) and was masked. */
  masked: z.boolean(),
});
export type PipelineFile = z.infer<typeof pipelineFileSchema>;

/**
 * One check of `etlctl test`: a connection, a table, a permission or the schema, on the source (per
 * shard) or the destination. `check` is a stable id (`connect`, `table`, `columns`,
 * `select_permission`, `cursor_column`, `key_columns`, `destination_connect`, `destination_table`,
 * `write_permission`, `table_features`, `schema`…); `code` is the failure's error code.
 */
export const connectionCheckSchema = z.object({
  target: z.enum(['source', 'destination']),
  shard: z
    .string()
    .optional()
    .describe('The source shard (`default` when unsharded); absent for the destination'),
  check: z.string(),
  status: z.enum(['ok', 'warning', 'failed', 'skipped']),
  detail: z.string().describe('One sentence naming the host, table or column; never a secret or a row value'),
  code: z
    .enum(ERROR_CODES)
    .nullable()
    .describe('The error code of a failed or warning check; null otherwise'),
  duration_ms: z.number(),
});
export type ConnectionCheck = z.infer<typeof connectionCheckSchema>;

/** `etlctl test`: every check, and `ok` when none failed (warnings and skipped checks do not fail it). */
export const connectionTestSchema = z.object({
  pipeline: z.string(),
  ok: z.boolean(),
  source: z.string().describe('The source as `plan` names it: kind and table or query'),
  destination: z
    .string()
    .describe("The destination's label, e.g. `postgres 127.0.0.1:5432/dw public.orders`"),
  mode: z.string(),
  checks: z.array(connectionCheckSchema),
});
export type ConnectionTest = z.infer<typeof connectionTestSchema>;

// ---------------------------------------------------------------- methods

const pipelineParams = z.object({ pipeline: pipelineName });
const empty = z.object({}).default({});
const statusFilter = z.array(z.enum(RUN_STATUSES)).min(1).max(RUN_STATUSES.length);
/** A run id whose listing page came before: the next page starts after it (keyset paging). */
const beforeRun = z
  .string()
  .min(1)
  .max(300)
  .describe(
    'Only runs listed after this run id (older, in the listing order): the next page after one ending with it',
  );
/** The fleet-wide lists' text filter (shared/record-text.ts says which fields it looks at). */
const textFilter = {
  text: z
    .string()
    .min(1)
    .max(200)
    .optional()
    .describe('Only records with a shown field containing this text, ignoring case'),
  invert_text: z.boolean().default(false).describe('Only records with no shown field containing `text`'),
};

/**
 * What a connection may do. `operator`: everything; `read-only` (the read-only socket or token):
 * only methods that do not mutate. The daemon says which in its hello.
 */
export const ACCESS_ROLES = ['operator', 'read-only'] as const;
export type AccessRole = (typeof ACCESS_ROLES)[number];

interface MethodSpec {
  readonly params: z.ZodType;
  readonly result: z.ZodType;
  /**
   * Whether a call changes the daemon's state: runs, schedules, pipeline files, watermarks,
   * destination files. Read-only connections may only make calls that do not. Required, so every
   * new method has to choose; a function decides from the parsed params when one method both reads
   * and writes (`watermark show` vs `set`). The control server enforces it in one place.
   */
  readonly mutates: boolean | ((params: never) => boolean);
}

export const METHODS = {
  list: { mutates: false, params: empty, result: z.array(pipelineSummarySchema) },
  status: { mutates: false, params: pipelineParams, result: pipelineStatusSchema },
  info: { mutates: false, params: empty, result: daemonInfoSchema },
  /** The daemons sharing the state store (fleet mode), or this daemon alone: health, heartbeat, runs. */
  hosts: { mutates: false, params: empty, result: fleetHostsSchema },
  start: {
    mutates: true,
    params: z.object({
      pipeline: pipelineName,
      /** Read everything again and replace the destination's content in the run's one commit. */
      full_refresh: z.boolean().default(false),
    }),
    result: z.object({ run_id: z.string(), pipeline: z.string(), kind: z.enum(RUN_KINDS).default('normal') }),
  },
  /**
   * A backfill run: re-reads the cursor range `[from, to)` below the pipeline's watermark and merges
   * (merge mode) or appends the rows the destination does not hold yet (incremental mode). The
   * watermark does not move. `from` and `to` are checked against the cursor column's type.
   */
  backfill: {
    mutates: true,
    params: z.object({
      pipeline: pipelineName,
      from: cursorValue,
      to: cursorValue,
      shard: z.string().min(1).max(200).optional(),
    }),
    result: z.object({
      run_id: z.string(),
      pipeline: z.string(),
      from: z.string(),
      to: z.string(),
      shard: z.string().nullable(),
    }),
  },
  stop: {
    mutates: true,
    params: pipelineParams,
    result: z.object({
      run_id: z.string().nullable(),
      stopped: z.boolean(),
      /** Fleet mode: the run was on another host; the stop was forwarded to it and it answered. */
      forwarded_to: z
        .string()
        .optional()
        .describe('the host the stop was forwarded to (fleet mode: the run was on that host)'),
    }),
  },
  pause: {
    mutates: true,
    params: pipelineParams,
    result: z.object({ pipeline: z.string(), paused: z.boolean() }),
  },
  resume: {
    mutates: true,
    params: pipelineParams,
    result: z.object({ pipeline: z.string(), paused: z.boolean() }),
  },
  history: {
    mutates: false,
    params: z.object({
      pipeline: pipelineName,
      limit: z.number().int().min(1).max(10_000).default(20),
      /** Only runs whose (final or current) status is one of these. */
      status: statusFilter.optional(),
      /** Only runs that started at or after this time. */
      since: isoParam.optional(),
      before: beforeRun.optional(),
      /** A multi-table pipeline: the runs of this one table (its own sequences). */
      table: z.string().min(1).max(1000).optional(),
    }),
    result: z.array(runRecordSchema),
  },
  /**
   * The tables of one run of a multi-table pipeline (default: its newest run that loaded tables),
   * each with its own sequence, status, rows and error.
   */
  tables: {
    mutates: false,
    params: z.object({
      pipeline: pipelineName,
      sequence: z.number().int().min(1).optional().describe("The pipeline's run (default: the newest)"),
    }),
    result: runTablesSchema,
  },
  /**
   * Runs of every pipeline (or one), newest first (by their first attempt's start), filtered like
   * `history` and by text (the id, pipeline, status, trigger, error code or the error's first line);
   * `before` pages through them (etlctl runs, the console's `:runs`).
   */
  runs: {
    mutates: false,
    params: z.object({
      pipeline: pipelineName.optional(),
      limit: z.number().int().min(1).max(10_000).default(50),
      status: statusFilter.optional(),
      since: isoParam.optional(),
      before: beforeRun.optional(),
      ...textFilter,
    }),
    result: z.array(runRecordSchema),
  },
  /** The operator changes of a pipeline's state (its audit trail), newest first. */
  changes: {
    mutates: false,
    params: z.object({
      pipeline: pipelineName,
      limit: z.number().int().min(1).max(10_000).default(20),
      since: isoParam.optional(),
    }),
    result: z.array(stateChangeSchema),
  },
  run: { mutates: false, params: z.object({ run_id: z.string() }), result: runDetailSchema },
  logs: {
    mutates: false,
    params: z.object({
      pipeline: pipelineName.optional(),
      lines: z.number().int().min(0).max(100_000).default(100),
      follow: z.boolean().default(false),
      since: isoTime.optional(),
      errors_only: z.boolean().default(false),
      run_id: z.string().optional(),
      grep: z.string().max(1000).optional(),
    }),
    result: z.object({ lines: z.array(logLineSchema), following: z.boolean() }),
  },
  reload: {
    mutates: true,
    params: empty,
    /**
     * What changed, by pipeline name. `problems`: every problem of the files that did not load and
     * of connections.yaml; `warnings`: the loaded pipelines' warnings (both optional on the wire:
     * daemons before 0.2 do not send them).
     */
    result: z.object({
      added: z.array(z.string()),
      changed: z.array(z.string()),
      removed: z.array(z.string()),
      invalid: z.array(z.string()),
      problems: z.array(z.string()).optional(),
      warnings: z.array(z.string()).optional(),
    }),
  },
  validate: {
    mutates: false,
    /** `sources`: also introspect each valid pipeline's source and try its checks there (reads no row). */
    params: z.object({ sources: z.boolean().default(false) }),
    /** `warnings` (optional on the wire): what the load noticed without refusing a file. */
    result: z.object({
      valid: z.array(z.string()),
      problems: z.array(z.string()),
      warnings: z.array(z.string()).optional(),
    }),
  },
  /** Every problem of the configuration the daemon runs: files that do not load, last good versions, warnings. */
  problems: { mutates: false, params: empty, result: z.array(configProblemSchema) },
  why: {
    mutates: false,
    params: pipelineParams,
    result: z.object({ pipeline: z.string(), next_run_at: nullableIso, lines: z.array(z.string()) }),
  },
  plan: { mutates: false, params: pipelineParams, result: planSchema },
  preview: {
    mutates: false,
    params: z.object({
      pipeline: pipelineName,
      limit: z.number().int().min(1).max(1000).default(20),
      table: z
        .string()
        .min(1)
        .max(1000)
        .optional()
        .describe('A multi-table pipeline: the table to preview (default: the first it selects)'),
    }),
    result: previewSchema,
  },
  watermark: {
    mutates: (params: { readonly action: string }) => params.action !== 'show',
    params: z.object({
      pipeline: pipelineName,
      action: z.enum(['show', 'set', 'reset']).default('show'),
      /** `set`: the destination holds every row with a cursor at or below this value. */
      value: z.string().min(1).max(1000).optional(),
      /** `set` or `reset`: one shard only (default: every shard). */
      shard: z.string().min(1).max(200).optional(),
    }),
    result: watermarkStateSchema,
  },
  vacuum: {
    mutates: (params: { readonly dry_run: boolean }) => !params.dry_run,
    params: z.object({ pipeline: pipelineName, dry_run: z.boolean().default(false) }),
    result: z.object({ files: z.array(z.string()), bytes: z.number() }),
  },
  /**
   * The file ledger of a `files` source: the files the pipeline loaded or quarantined, one page in
   * key order, with the ledger's totals (empty for a pipeline that reads no files).
   */
  files: {
    mutates: false,
    params: z.object({
      pipeline: pipelineName,
      status: z.enum(SOURCE_FILE_STATUSES).optional().describe('Only loaded, or only quarantined files'),
      after: sourceFileKey
        .optional()
        .describe(
          'Only keys after this one in key order: the next page after one ending with it (`next_after`)',
        ),
      limit: z
        .number()
        .int()
        .min(1)
        .max(10_000)
        .default(100)
        .describe('How many entries the page holds at most'),
      text: z
        .string()
        .min(1)
        .max(200)
        .optional()
        .describe('Only files whose key or quarantine reason contains this text, ignoring case'),
    }),
    result: sourceFileListingSchema,
  },
  /**
   * The files a `files` source's next run would take: the store listed under the pattern and
   * compared with the ledger, writing nothing. USAGE for a pipeline that reads no files.
   */
  files_pending: {
    mutates: false,
    params: z.object({
      pipeline: pipelineName,
      limit: z
        .number()
        .int()
        .min(1)
        .max(10_000)
        .default(100)
        .describe('How many pending files to list at most; the listing stops there (`truncated`)'),
    }),
    result: pendingFilesSchema,
  },
  /**
   * Removes entries from the file ledger, so the pipeline's next run loads those files again (in
   * append mode their rows a second time). Either `keys` or `all`; refused while a run of the
   * pipeline is active, like a watermark change.
   */
  files_forget: {
    mutates: true,
    params: z
      .object({
        pipeline: pipelineName,
        keys: z
          .array(sourceFileKey)
          .min(1)
          .max(1000)
          .optional()
          .describe('The keys of the files to load again'),
        all: z.boolean().default(false).describe("Forget every entry of the pipeline's ledger"),
      })
      .refine((params) => (params.keys !== undefined) !== params.all, {
        message: 'give either keys or all: true',
      }),
    result: sourceFileForgetSchema,
  },
  /** The pipeline's file as on disk (also for an invalid pipeline), for `y` in the console. */
  pipeline_file: { mutates: false, params: pipelineParams, result: pipelineFileSchema },

  /**
   * Recorded alerts, newest first; one pipeline's with `pipeline`; filtered by text (the pipeline,
   * kind, status, run or subject); `before` pages through them (the console's `:alerts`).
   */
  alerts: {
    mutates: false,
    params: z.object({
      limit: z.number().int().min(1).max(5000).default(200),
      pipeline: pipelineName.optional(),
      before: z
        .number()
        .int()
        .optional()
        .describe('Only alerts listed after this alert id: the next page after one ending with it'),
      ...textFilter,
    }),
    result: z.array(alertRecordSchema),
  },
  subscribe: {
    mutates: false,
    params: z.object({
      topics: z
        .array(z.enum(['runs', 'progress', 'logs', 'resources', 'pipelines']))
        .default(['runs', 'progress', 'pipelines']),
      pipeline: pipelineName.optional(),
    }),
    result: z.object({ topics: z.array(z.string()) }),
  },
  unsubscribe: { mutates: false, params: empty, result: z.object({ ok: z.boolean() }) },
  /**
   * `etlctl test`: connects to the source (each shard, within its host's source slots) and the
   * destination and checks the table, the columns and the permissions a run needs, moving no row
   * and creating nothing.
   */
  test: { mutates: false, params: pipelineParams, result: connectionTestSchema },
} as const satisfies Record<string, MethodSpec>;

export type MethodName = keyof typeof METHODS;
export type MethodParams<M extends MethodName> = z.output<(typeof METHODS)[M]['params']>;
export type MethodParamsInput<M extends MethodName> = z.input<(typeof METHODS)[M]['params']>;
export type MethodResult<M extends MethodName> = z.output<(typeof METHODS)[M]['result']>;

type MutatesRule<M extends MethodName> = boolean | ((params: MethodParams<M>) => boolean);

/** The same table seen per method: a rule that reads a param its method does not have fails to compile. */
const MUTATES_RULES: { readonly [M in MethodName]: { readonly mutates: MutatesRule<M> } } = METHODS;

/** Whether this call (with its parsed params) changes the daemon's state. */
export function callMutates<M extends MethodName>(method: M, params: MethodParams<M>): boolean {
  const rule: MutatesRule<M> = MUTATES_RULES[method].mutates;
  return typeof rule === 'boolean' ? rule : rule(params);
}

// ---------------------------------------------------------------- events

export const EVENTS = {
  /** The run's status changed: `retrying` after a failed attempt, `running` when the next starts. */
  'run.state': z.object({
    run_id: z.string(),
    /** The attempt this change belongs to (`<run_id>-<attempt>`). */
    attempt_id: z.string(),
    pipeline: z.string(),
    status: z.enum(RUN_STATUSES),
    attempt: z.number().int(),
    at: isoTime,
    rows_loaded: z.number().int(),
    error: runErrorSchema,
  }),
  'run.progress': z.object({
    run_id: z.string(),
    attempt_id: z.string(),
    pipeline: z.string(),
    rows: z.number().int(),
    bytes: z.number().int(),
    rows_per_s: z.number(),
    phase: z.enum(['planning', 'extracting', 'staging', 'committing', 'waiting']),
    parts: z.array(runPartSchema),
  }),
  log: logLineSchema,
  'pipelines.changed': z.object({ pipelines: z.array(pipelineSummarySchema) }),
  resources: resourcesSchema,
} as const;
export type EventName = keyof typeof EVENTS;
export type EventData<E extends EventName> = z.infer<(typeof EVENTS)[E]>;

// ---------------------------------------------------------------- frames

export const clientFrameSchema = z.discriminatedUnion('type', [
  z.object({
    type: z.literal('hello'),
    version: z.number().int(),
    client: z.string().max(200).optional(),
    /** The user running the client, as it reports it: recorded with the operator changes it makes. */
    user: z.string().max(200).optional(),
  }),
  z.object({
    type: z.literal('request'),
    id: z.union([z.string().min(1).max(100), z.number().int()]),
    method: z.string().min(1).max(100),
    params: z.unknown().optional(),
  }),
]);
export type ClientFrame = z.infer<typeof clientFrameSchema>;

export const serverFrameSchema = z.discriminatedUnion('type', [
  z.object({
    type: z.literal('hello'),
    version: z.number().int(),
    daemon: z.object({ version: z.string(), host: z.string(), pid: z.number().int() }),
    /** What this connection may do; absent from daemons before the read-only role (operator). */
    role: z.enum(ACCESS_ROLES).optional(),
  }),
  z.object({
    type: z.literal('reply'),
    id: z.union([z.string(), z.number(), z.null()]),
    result: z.unknown().optional(),
    error: serializedErrorSchema.optional(),
  }),
  z.object({ type: z.literal('event'), event: z.string(), data: z.unknown() }),
]);

export function isMethodName(name: string): name is MethodName {
  return Object.hasOwn(METHODS, name);
}

export function isEventName(name: string): name is EventName {
  return Object.hasOwn(EVENTS, name);
}
