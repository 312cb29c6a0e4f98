import { z } from 'zod';
import { durationSchema, emailListSchema, sizeSchema } from './common-schema.js';
import { isValidTimeZone } from './schedule.js';
import { ALERT_KINDS } from '../types.js';

/**
 * A run's staging DuckDB: 96 MiB is the least that streams two parts at once (each needs about
 * 48 MiB: a CSV read buffer of the largest row and the Parquet writer's open row group); below it
 * a run streams one part at a time (see engine/run-memory.ts). One thread: each part's statement
 * runs on its own thread anyway, and idle DuckDB workers only compete with the source on small
 * machines. DuckDB spills beyond the limit to disk. Measured by `npm run bench`.
 */
/** BigQuery on-demand analysis, US dollars per TiB scanned (cloud.google.com/bigquery/pricing, 2023-07-05). */
export const DEFAULT_BIGQUERY_PRICE_PER_TIB = 6.25;

export const DEFAULT_MEMORY_LIMIT = 96 * 1024 * 1024;
export const DEFAULT_THREADS = 1;

const listenSchema = z.string().regex(/^[^:]+:\d{1,5}$/, 'expected host:port such as 127.0.0.1:7070');
const envNameSchema = z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'expected an environment variable name');

/** Run events a webhook may subscribe to (`run_events`), besides alerts. */
export const RUN_EVENT_TYPES = [
  'run.started',
  'run.succeeded',
  'run.failed',
  'run.retrying',
  'run.cancelled',
  'run.interrupted',
] as const;

const secretUrlFields = {
  url_env: envNameSchema
    .optional()
    .describe('The environment variable holding the URL (give url_env or url_file)'),
  url_file: z.string().min(1).optional().describe('The file holding the URL'),
  url: z.unknown().optional().describe('Refused: the URL carries a token; use url_env or url_file'),
};

const channelCommon = {
  name: z
    .string()
    .regex(/^[a-z0-9_-]+$/, 'expected a channel name of [a-z0-9_-]+')
    .describe("The channel's name, as pipelines name it in alerts.channels"),
  ...secretUrlFields,
  /** true: every pipeline's alerts (and host alerts); false: only pipelines naming it in alerts.channels. */
  default: z
    .boolean()
    .default(true)
    .describe(
      "true: every pipeline's alerts and the host's; false: only pipelines naming it in alerts.channels",
    ),
  /** Alert kinds this channel takes (default: all). */
  kinds: z.array(z.enum(ALERT_KINDS)).min(1).optional().describe('The alert kinds it takes (default: all)'),
};

/**
 * Alert channels besides e-mail. `webhook`: a versioned JSON body, optionally HMAC-signed, that can
 * also carry run events; `slack`: an incoming-webhook message with the mail's content.
 */
const alertChannelSchema = z
  .discriminatedUnion('type', [
    z
      .strictObject({
        type: z
          .literal('webhook')
          .describe('A generic webhook: a versioned JSON body (docs/observability.md)'),
        ...channelCommon,
        secret_env: envNameSchema
          .optional()
          .describe('The environment variable holding the HMAC secret the body is signed with'),
        secret_file: z.string().min(1).optional().describe('The file holding the HMAC secret'),
        alerts: z.boolean().default(true).describe('Send alerts (false: run events only)'),
        run_events: z.array(z.enum(RUN_EVENT_TYPES)).default([]).describe('Run events it also receives'),
      })
      .describe('POSTs alerts, and optionally run events, as JSON'),
    z
      .strictObject({
        type: z.literal('slack').describe('A Slack incoming webhook'),
        ...channelCommon,
      })
      .describe("Posts the alert mail's content as a Slack message"),
  ])
  .superRefine((channel, ctx) => {
    if (channel.url !== undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['url'],
        message:
          'a webhook URL is a secret (it carries the token): use url_env (an environment variable) or url_file',
      });
    } else if ((channel.url_env === undefined) === (channel.url_file === undefined)) {
      ctx.addIssue({ code: 'custom', path: ['url_env'], message: 'give exactly one of url_env or url_file' });
    }
    if (channel.type === 'webhook' && channel.secret_env !== undefined && channel.secret_file !== undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['secret_file'],
        message: 'give either secret_env or secret_file, not both',
      });
    }
  });
export type AlertChannelSettings = z.output<typeof alertChannelSchema>;

const alertChannelsSchema = z.array(alertChannelSchema).superRefine((channels, ctx) => {
  const seen = new Set<string>();
  channels.forEach((channel, index) => {
    if (channel.name === 'email' || seen.has(channel.name)) {
      ctx.addIssue({
        code: 'custom',
        path: [index, 'name'],
        message:
          channel.name === 'email'
            ? '"email" is the SMTP channel\'s own name'
            : `duplicate channel name "${channel.name}"`,
      });
    }
    seen.add(channel.name);
  });
});

/**
 * The HTTP endpoint (/healthz, /readyz, /metrics): off unless `http:` is present. The bearer
 * token, when wanted, comes from a file or the environment, never from the YAML itself.
 */
const httpSchema = z
  .strictObject({
    listen: listenSchema.default('127.0.0.1:9464').describe('host:port to listen on'),
    token_env: envNameSchema
      .optional()
      .describe('The environment variable holding a bearer token the endpoint requires'),
    token_file: z.string().min(1).optional().describe('The file holding that token'),
    token: z.unknown().optional().describe('Refused: use token_env or token_file'),
  })
  .superRefine((value, ctx) => {
    if (value.token !== undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['token'],
        message: 'the bearer token is never written in etld.yaml: use token_env or token_file',
      });
    }
    if (value.token_env !== undefined && value.token_file !== undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['token_file'],
        message: 'give either token_env or token_file, not both',
      });
    }
  });

/** Daemon settings: `/etc/etld/etld.yaml`, `$ETLD_HOME/etld.yaml` or `$ETLD_CONFIG`. */
const relative = 'a relative path resolves against the directory of etld.yaml';

export const daemonSettingsSchema = z.strictObject({
  pipelines_dir: z
    .string()
    .min(1)
    .optional()
    .describe(`The pipeline files' directory (default DIR/pipelines, or /etc/etld/pipelines); ${relative}`),
  lake_dir: z
    .string()
    .min(1)
    .optional()
    .describe(
      `Where relative destination paths resolve (default DIR/lake, or /var/lib/etld/lake); ${relative}`,
    ),
  state: z
    .discriminatedUnion('type', [
      z
        .strictObject({
          type: z.literal('sqlite').describe('SQLite, WAL, under the state directory'),
          path: z
            .string()
            .min(1)
            .optional()
            .describe('The database file (default DIR/state/etld.db, or /var/lib/etld/state/etld.db)'),
        })
        .describe('The state store of one host'),
      z
        .strictObject({
          type: z.literal('postgres').describe('PostgreSQL: one state store shared by a fleet of hosts'),
          url_env: envNameSchema
            .optional()
            .describe('The environment variable holding the connection URL (give url_env or url_file)'),
          url_file: z
            .string()
            .min(1)
            .optional()
            .describe('The file holding the connection URL (trimmed); relative paths as password_file'),
        })
        .superRefine((value, ctx) => {
          if ((value.url_env === undefined) === (value.url_file === undefined))
            ctx.addIssue({
              code: 'custom',
              path: ['url_env'],
              message: 'give exactly one of url_env or url_file',
            });
        })
        .describe('A state store shared by several hosts that then act as one fleet (docs/fleet.md)'),
    ])
    .default({ type: 'sqlite' })
    .describe('Where runs, watermarks and alert history are kept; `type` selects the fields'),
  fleet: z
    .strictObject({
      host_name: z
        .string()
        .min(1)
        .optional()
        .describe("This host's name in the fleet, unique in it (default: the machine's host name)"),
      lease: durationSchema
        .refine((ms) => ms >= 5_000, { error: 'expected at least 5s' })
        .default(30_000)
        .describe(
          "How long a host's run leases outlive its last heartbeat (every lease/3); a dead host's runs are taken over after it",
        ),
    })
    .default({ lease: 30_000 })
    .describe('Fleet mode (state: { type: postgres }): how hosts sharing the state store coordinate'),
  control: z
    .strictObject({
      socket: z
        .string()
        .min(1)
        .optional()
        .describe(`The control socket (default DIR/run/etld.sock, or /run/etld/etld.sock); ${relative}`),
      socket_mode: z
        .string()
        .regex(/^0?[0-7]{3}$/, 'expected an octal mode such as 0660')
        .default('0660')
        .describe("The socket's permissions (octal): who may use etlctl and etl-console"),
      /**
       * A second Unix socket whose clients may only read (list, status, history, logs…): its mode
       * and group decide who may watch. Off unless present; `{}` takes the defaults.
       */
      readonly_socket: z
        .strictObject({
          path: z.string().min(1).optional().describe('Default: etld-ro.sock beside the operator socket'),
          mode: z
            .string()
            .regex(/^0?[0-7]{3}$/, 'expected an octal mode such as 0660')
            .default('0660')
            .describe("The read-only socket's permissions (octal)"),
          group: z
            .union([z.string().regex(/^[A-Za-z_][A-Za-z0-9_.-]*$/), z.number().int().min(0)])
            .optional()
            .describe("A group name or number the file is given (the daemon's user must be a member)"),
        })
        .optional()
        .describe(
          'A second Unix socket whose clients may only read (docs/access-control.md); off without it',
        ),
      tcp: z
        .strictObject({
          listen: listenSchema.default('127.0.0.1:7070').describe('host:port to listen on'),
          token_env: envNameSchema
            .optional()
            .describe('The environment variable holding the operator bearer token (full access)'),
          token_file: z
            .string()
            .min(1)
            .optional()
            .describe('The file holding the operator bearer token (full access; etlctl --token-file)'),
          token: z.unknown().optional().describe('Refused: use token_env or token_file'),
          readonly_token_env: envNameSchema
            .optional()
            .describe(
              'The environment variable holding the read-only token (list, status, logs…, never a change)',
            ),
          readonly_token_file: z.string().min(1).optional().describe('The file holding the read-only token'),
          readonly_token: z
            .unknown()
            .optional()
            .describe('Refused: use readonly_token_env or readonly_token_file'),
        })
        .superRefine((value, ctx) => {
          if (value.token !== undefined) {
            ctx.addIssue({
              code: 'custom',
              path: ['token'],
              message: 'a token is never written in etld.yaml: use token_env or token_file',
            });
          }
          if (value.token_env !== undefined && value.token_file !== undefined) {
            ctx.addIssue({
              code: 'custom',
              path: ['token_file'],
              message: 'give either token_env or token_file, not both',
            });
          }
          if (value.readonly_token !== undefined) {
            ctx.addIssue({
              code: 'custom',
              path: ['readonly_token'],
              message: 'a token is never written in etld.yaml: use readonly_token_env or readonly_token_file',
            });
          }
          if (value.readonly_token_env !== undefined && value.readonly_token_file !== undefined) {
            ctx.addIssue({
              code: 'custom',
              path: ['readonly_token_file'],
              message: 'give either readonly_token_env or readonly_token_file, not both',
            });
          }
          if (
            value.token_env === undefined &&
            value.token_file === undefined &&
            value.readonly_token_env === undefined &&
            value.readonly_token_file === undefined
          ) {
            ctx.addIssue({
              code: 'custom',
              path: ['token_file'],
              message:
                'the TCP listener needs a token: token_env or token_file (operator), readonly_token_env or readonly_token_file (read-only)',
            });
          }
        })
        .optional()
        .describe('A token-protected TCP listener besides the socket (off without it)'),
      max_clients: z
        .number()
        .int()
        .min(1)
        .max(10_000)
        .default(256)
        .describe('Connected clients at most; more are refused'),
      max_frame_bytes: sizeSchema.default(1024 * 1024).describe('The largest message a client may send'),
      max_send_buffer_bytes: sizeSchema
        .default(4 * 1024 * 1024)
        .describe(
          'A client whose unread backlog would pass this is disconnected (the daemon never waits for one)',
        ),
      heartbeat: durationSchema.default(30_000).describe('How often idle connections are pinged'),
    })
    .describe('The control socket etlctl and etl-console use (docs/architecture.md)')
    .default({
      socket_mode: '0660',
      max_clients: 256,
      max_frame_bytes: 1024 * 1024,
      max_send_buffer_bytes: 4 * 1024 * 1024,
      heartbeat: 30_000,
    }),
  logs: z
    .strictObject({
      dir: z
        .string()
        .min(1)
        .optional()
        .describe(`The per-pipeline log files' directory (default DIR/logs, or /var/log/etl); ${relative}`),
      max_size: sizeSchema.default(10 * 1024 * 1024).describe('Rotate a log file before it passes this size'),
      max_age: durationSchema
        .default(7 * 86_400_000)
        .describe('Rotate a log file whose first line is this old'),
      keep: z.number().int().min(1).max(1000).default(7).describe('Rotated files kept per log file'),
      total_max_size: sizeSchema
        .default(500 * 1024 * 1024)
        .describe('All log files together stay under this; the oldest rotated files go first'),
      compress: z.boolean().default(true).describe('gzip rotated files'),
      format: z
        .enum(['text', 'json'])
        .default('text')
        .describe(
          "Not applied to stdout, whose format is etld's --log-format (start-up notes the difference)",
        ),
      level: z
        .enum(['error', 'warning', 'notice', 'info', 'debug'])
        .default('info')
        .describe('The least important level written to the files'),
      journald: z
        .enum(['auto', 'off'])
        .default('auto')
        .describe(
          'auto: when stdout is the journal (systemd), log through journald with PIPELINE=, RUN_ID= … fields',
        ),
    })
    .describe('Per-pipeline log files: <dir>/<pipeline>/output.log and error.log, read by etlctl logs')
    .default({
      max_size: 10 * 1024 * 1024,
      max_age: 7 * 86_400_000,
      keep: 7,
      total_max_size: 500 * 1024 * 1024,
      compress: true,
      format: 'text',
      level: 'info',
      journald: 'auto',
    }),
  smtp: z
    .strictObject({
      host: z.string().min(1).describe('The mail server'),
      port: z.number().int().min(1).max(65535).default(587).describe('Its port'),
      tls: z.boolean().default(false).describe('implicit TLS (port 465)'),
      starttls: z.boolean().default(true).describe('Upgrade the connection with STARTTLS'),
      user: z.string().min(1).optional().describe('Login name (none: no authentication)'),
      password_file: z.string().min(1).optional().describe('The file holding the password'),
      password_env: z.string().min(1).optional().describe('The environment variable holding the password'),
      from: z.string().min(3).describe('The sender, e.g. "etld <etld@example.com>"'),
      reject_unauthorized: z.boolean().default(true).describe("Verify the server's certificate"),
    })
    .optional()
    .describe('The mail server alerts are sent through (no mail without it)'),
  alerts: z
    .strictObject({
      email: emailListSchema
        .default([])
        .describe("Addresses that get every pipeline's alerts and the host's"),
      throttle: durationSchema
        .default(30 * 60_000)
        .describe(
          'Repeated alerts of a pipeline send at most one mail in this time; the next mail says how many were held back',
        ),
      low_disk_percent: z
        .number()
        .min(0)
        .max(100)
        .default(5)
        .describe('Alert when a data disk (state, lake, logs) has less free space than this share'),
      channels: alertChannelsSchema
        .default([])
        .describe('Slack and webhook channels; `type` selects the fields'),
    })
    .describe(
      'Alerts: failures after retries, recoveries, stalls, low disk, staleness, checks (docs/observability.md)',
    )
    .default({ email: [], throttle: 30 * 60_000, low_disk_percent: 5, channels: [] }),
  http: httpSchema
    .optional()
    .describe('The HTTP endpoint: /healthz, /readyz, Prometheus /metrics (off without it)'),
  defaults: z
    .strictObject({
      parallelism: z
        .number()
        .int()
        .min(1)
        .max(64)
        .default(4)
        .describe('source.parallelism of pipelines that set none'),
      stall_timeout: durationSchema.default(10 * 60_000).describe('stall_timeout of pipelines that set none'),
      grace_period: durationSchema
        .default(60_000)
        .describe('On SIGTERM, how long running runs may finish before they are cancelled'),
      source_slots_per_host: z
        .number()
        .int()
        .min(1)
        .max(1000)
        .default(8)
        .describe('Concurrent queries per source host, across all pipelines'),
      /** Memory of each run's staging DuckDB (it spills beyond it to the run's temp directory). */
      memory_limit: sizeSchema
        .refine((bytes) => bytes >= 32 * 1024 * 1024, { error: 'expected at least 32MB' })
        .default(DEFAULT_MEMORY_LIMIT)
        .describe("Memory of each run's staging DuckDB; beyond it DuckDB spills to disk (docs/engine.md)"),
      /** Threads of each run's staging DuckDB (parsing, transforms, file encoding). */
      threads: z
        .number()
        .int()
        .min(1)
        .max(64)
        .default(DEFAULT_THREADS)
        .describe("Threads of each run's staging DuckDB (docs/engine.md)"),
      timezone: z
        .string()
        .refine(isValidTimeZone, { error: (i) => `expected an IANA timezone, got "${String(i.input)}"` })
        .optional()
        .describe("timezone of pipelines that set none (default: the host's)"),
      /** A pipeline whose last successful run is older than this is stale (alerted once). */
      freshness: durationSchema
        .optional()
        .describe('freshness of pipelines that set none: alert when the last successful run is older'),
      /**
       * BigQuery's on-demand analysis price in US dollars per TiB scanned ($6.25 in the US multi-region
       * since 2023-07-05, cloud.google.com/bigquery/pricing); `etlctl plan` prices a load's queries at it.
       */
      bigquery_price_per_tib: z
        .number()
        .nonnegative()
        .default(DEFAULT_BIGQUERY_PRICE_PER_TIB)
        .describe(
          'US dollars per TiB a BigQuery query scans (on-demand price, default 6.25); etlctl plan prices a load at it',
        ),
    })
    .describe('Defaults for every pipeline, and limits of each run')
    .default({
      parallelism: 4,
      stall_timeout: 10 * 60_000,
      grace_period: 60_000,
      source_slots_per_host: 8,
      memory_limit: DEFAULT_MEMORY_LIMIT,
      threads: DEFAULT_THREADS,
      bigquery_price_per_tib: DEFAULT_BIGQUERY_PRICE_PER_TIB,
    }),
});

export type DaemonSettings = z.output<typeof daemonSettingsSchema>;
