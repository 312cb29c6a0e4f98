import { z } from 'zod';
import { durationSchema, emailListSchema, sizeSchema } from './common-schema.js';
import { isValidTimeZone } from './schedule.js';

/**
 * A run's staging DuckDB: 128 MiB of buffers and two threads keep a daemon running one large load
 * under about 250 MB RSS (measured by `npm run bench`); DuckDB spills beyond the limit to disk.
 */
const DEFAULT_MEMORY_LIMIT = 128 * 1024 * 1024;
const DEFAULT_THREADS = 2;

const listenSchema = z.string().regex(/^[^:]+:\d{1,5}$/, 'expected host:port such as 127.0.0.1:7070');

/** Daemon settings: `/etc/etld/etld.yaml`, `$ETLD_HOME/etld.yaml` or `$ETLD_CONFIG` (SPEC §2). */
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
      tcp: z
        .strictObject({ listen: listenSchema.default('127.0.0.1:7070'), token_file: z.string().min(1) })
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
    })
    .default({
      max_size: 10 * 1024 * 1024,
      max_age: 7 * 86_400_000,
      keep: 7,
      total_max_size: 500 * 1024 * 1024,
      compress: true,
      format: 'text',
      level: 'info',
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
    })
    .default({ email: [], throttle: 30 * 60_000, low_disk_percent: 5 }),
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
