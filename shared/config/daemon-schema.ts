import { z } from 'zod';
import { durationSchema, emailListSchema, sizeSchema } from './common-schema.js';
import { isValidTimeZone } from './schedule.js';

/**
 * A run's staging DuckDB: 96 MiB is the least that streams two parts at once (each needs about
 * 48 MiB: a CSV read buffer of the largest row and the Parquet writer's open row group); below it
 * a run streams one part at a time (see engine/run-memory.ts). One thread: each part's statement
 * runs on its own thread anyway, and idle DuckDB workers only compete with the source on small
 * machines. DuckDB spills beyond the limit to disk. Measured by `npm run bench`.
 */
export const DEFAULT_MEMORY_LIMIT = 96 * 1024 * 1024;
export const DEFAULT_THREADS = 1;

const listenSchema = z.string().regex(/^[^:]+:\d{1,5}$/, 'expected host:port such as 127.0.0.1:7070');
const envNameSchema = z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'expected an environment variable name');

/** What an alert is about; channels may take a subset (`kinds`). */
export const ALERT_KINDS = ['failure', 'recovery', 'stall', 'low_disk', 'stale', 'fresh', 'checks'] as const;
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
  url_env: envNameSchema.optional(),
  url_file: z.string().min(1).optional(),
  url: z.unknown().optional().describe('Refused: the URL carries a token; use url_env or url_file'),
};

const channelCommon = {
  name: z.string().regex(/^[a-z0-9_-]+$/, 'expected a channel name of [a-z0-9_-]+'),
  ...secretUrlFields,
  /** true: every pipeline's alerts (and host alerts); false: only pipelines naming it in alerts.channels. */
  default: z.boolean().default(true),
  /** Alert kinds this channel takes (default: all). */
  kinds: z.array(z.enum(ALERT_KINDS)).min(1).optional(),
};

/**
 * Alert channels besides e-mail. `webhook`: a versioned JSON body, optionally HMAC-signed, that can
 * also carry run events; `slack`: an incoming-webhook message with the mail's content.
 */
const alertChannelSchema = z
  .discriminatedUnion('type', [
    z.strictObject({
      type: z.literal('webhook'),
      ...channelCommon,
      secret_env: envNameSchema.optional(),
      secret_file: z.string().min(1).optional(),
      alerts: z.boolean().default(true),
      run_events: z.array(z.enum(RUN_EVENT_TYPES)).default([]),
    }),
    z.strictObject({ type: z.literal('slack'), ...channelCommon }),
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
    listen: listenSchema.default('127.0.0.1:9464'),
    token_env: envNameSchema.optional(),
    token_file: z.string().min(1).optional(),
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
export const daemonSettingsSchema = z.strictObject({
  pipelines_dir: z.string().min(1).optional(),
  lake_dir: z.string().min(1).optional(),
  state: z
    .discriminatedUnion('type', [
      z.strictObject({ type: z.literal('sqlite'), path: z.string().min(1).optional() }),
      z.strictObject({ type: z.literal('postgres'), url_env: z.string().min(1) }),
    ])
    .default({ type: 'sqlite' }),
  control: z
    .strictObject({
      socket: z.string().min(1).optional(),
      socket_mode: z
        .string()
        .regex(/^0?[0-7]{3}$/, 'expected an octal mode such as 0660')
        .default('0660'),
      /**
       * A second Unix socket whose clients may only read (list, status, history, logs…): its mode
       * and group decide who may watch. Off unless present; `{}` takes the defaults.
       */
      readonly_socket: z
        .strictObject({
          /** Default: etld-ro.sock beside the operator socket. */
          path: z.string().min(1).optional(),
          mode: z
            .string()
            .regex(/^0?[0-7]{3}$/, 'expected an octal mode such as 0660')
            .default('0660'),
          /** A group name or number the file is given (the daemon's user must be a member). */
          group: z
            .union([z.string().regex(/^[A-Za-z_][A-Za-z0-9_.-]*$/), z.number().int().min(0)])
            .optional(),
        })
        .optional(),
      tcp: z
        .strictObject({
          listen: listenSchema.default('127.0.0.1:7070'),
          /** The operator token: full access. */
          token_file: z.string().min(1).optional(),
          /** The read-only token: list, status, logs…, never a change. */
          readonly_token_env: envNameSchema.optional(),
          readonly_token_file: z.string().min(1).optional(),
          readonly_token: z
            .unknown()
            .optional()
            .describe('Refused: use readonly_token_env or readonly_token_file'),
        })
        .superRefine((value, ctx) => {
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
            value.token_file === undefined &&
            value.readonly_token_env === undefined &&
            value.readonly_token_file === undefined
          ) {
            ctx.addIssue({
              code: 'custom',
              path: ['token_file'],
              message:
                'the TCP listener needs a token: token_file (operator), readonly_token_env or readonly_token_file (read-only)',
            });
          }
        })
        .optional(),
      max_clients: z.number().int().min(1).max(10_000).default(256),
      max_frame_bytes: sizeSchema.default(1024 * 1024),
      max_send_buffer_bytes: sizeSchema.default(4 * 1024 * 1024),
      heartbeat: durationSchema.default(30_000),
    })
    .default({
      socket_mode: '0660',
      max_clients: 256,
      max_frame_bytes: 1024 * 1024,
      max_send_buffer_bytes: 4 * 1024 * 1024,
      heartbeat: 30_000,
    }),
  logs: z
    .strictObject({
      dir: z.string().min(1).optional(),
      max_size: sizeSchema.default(10 * 1024 * 1024),
      max_age: durationSchema.default(7 * 86_400_000),
      keep: z.number().int().min(1).max(1000).default(7),
      total_max_size: sizeSchema.default(500 * 1024 * 1024),
      compress: z.boolean().default(true),
      format: z.enum(['text', 'json']).default('text'),
      level: z.enum(['error', 'warning', 'notice', 'info', 'debug']).default('info'),
      journald: z
        .enum(['auto', 'off'])
        .default('auto')
        .describe(
          'auto: when stdout is the journal (systemd), log through journald with PIPELINE=, RUN_ID= … fields',
        ),
    })
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
      host: z.string().min(1),
      port: z.number().int().min(1).max(65535).default(587),
      tls: z.boolean().default(false).describe('implicit TLS (port 465)'),
      starttls: z.boolean().default(true),
      user: z.string().min(1).optional(),
      password_file: z.string().min(1).optional(),
      password_env: z.string().min(1).optional(),
      from: z.string().min(3),
      reject_unauthorized: z.boolean().default(true),
    })
    .optional(),
  alerts: z
    .strictObject({
      email: emailListSchema.default([]),
      throttle: durationSchema.default(30 * 60_000),
      low_disk_percent: z.number().min(0).max(100).default(5),
      channels: alertChannelsSchema.default([]),
    })
    .default({ email: [], throttle: 30 * 60_000, low_disk_percent: 5, channels: [] }),
  http: httpSchema.optional(),
  defaults: z
    .strictObject({
      parallelism: z.number().int().min(1).max(64).default(4),
      stall_timeout: durationSchema.default(10 * 60_000),
      grace_period: durationSchema.default(60_000),
      source_slots_per_host: z.number().int().min(1).max(1000).default(8),
      /** Memory of each run's staging DuckDB (it spills beyond it to the run's temp directory). */
      memory_limit: sizeSchema
        .refine((bytes) => bytes >= 32 * 1024 * 1024, { error: 'expected at least 32MB' })
        .default(DEFAULT_MEMORY_LIMIT),
      /** Threads of each run's staging DuckDB (parsing, transforms, file encoding). */
      threads: z.number().int().min(1).max(64).default(DEFAULT_THREADS),
      timezone: z
        .string()
        .refine(isValidTimeZone, { error: (i) => `expected an IANA timezone, got "${String(i.input)}"` })
        .optional(),
      /** A pipeline whose last successful run is older than this is stale (alerted once). */
      freshness: durationSchema.optional(),
    })
    .default({
      parallelism: 4,
      stall_timeout: 10 * 60_000,
      grace_period: 60_000,
      source_slots_per_host: 8,
      memory_limit: DEFAULT_MEMORY_LIMIT,
      threads: DEFAULT_THREADS,
    }),
});

export type DaemonSettings = z.output<typeof daemonSettingsSchema>;
