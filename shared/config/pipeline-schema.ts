import { z } from 'zod';
import { connectionSchema, durationSchema, emailListSchema, sizeSchema } from './common-schema.js';
import { checkColumns, checksSchema } from './checks-schema.js';
import { isValidTimeZone, parseSchedule } from './schedule.js';
import { parseTypeName, TYPE_NAME_HINT } from '../types.js';

export const PIPELINE_NAME_RE = /^[a-z0-9_-]+$/;
/**
 * The metadata column naming a row's shard. For sharded sources a row's identity is (key,
 * _etl_shard): shards keep their own id sequences, so equal keys on two shards are two rows.
 * It may be written in `source.key`; it is added there anyway.
 */
export const SHARD_COLUMN = '_etl_shard';
const identifier = z.string().min(1, 'expected a column name');

const typeNameSchema = z.string().refine((text) => parseTypeName(text) !== undefined, {
  error: (issue) => `expected a type (${TYPE_NAME_HINT}), got "${String(issue.input)}"`,
});

/**
 * `connection:` of a source or a PostgreSQL destination. The file may also name a connection of
 * connections.yaml there; the loader puts the named block in its place before validating
 * (connection-refs.ts), so only blocks reach this schema. The JSON Schema offers both.
 */
export const connectionFieldSchema = connectionSchema.meta({
  description: 'A connection, or the name of one in connections.yaml beside the pipelines directory',
});

const shardSchema = connectionSchema.and(
  z.object({ name: z.string().regex(PIPELINE_NAME_RE, 'expected a shard name of [a-z0-9_-]+') }),
);

export const sourceSchema = z
  .strictObject({
    type: z.enum(['postgres', 'mysql', 'sqlserver']),
    connection: connectionFieldSchema,
    shards: z.array(shardSchema).min(1).optional(),
    table: z.string().min(1).optional(),
    query: z.string().min(1).optional(),
    columns: z.array(identifier).min(1).optional(),
    key: z.array(identifier).min(1).optional(),
    chunk_rows: z.number().int().positive().optional(),
    parallelism: z.number().int().min(1).max(64).optional(),
    zero_dates: z
      .enum(['null', 'error'])
      .default('null')
      .describe('MySQL zero dates (0000-00-00): load as NULL or fail the run'),
    infinite_dates: z
      .enum(['error', 'null'])
      .default('error')
      .describe(
        'PostgreSQL infinity / -infinity dates and timestamps: fail the run naming the column, or load as NULL',
      ),
  })
  .superRefine((source, ctx) => {
    if ((source.table === undefined) === (source.query === undefined)) {
      ctx.addIssue({ code: 'custom', path: ['table'], message: 'give exactly one of table or query' });
    }
    if (source.query !== undefined && !/^\s*(select|with)\b/i.test(source.query)) {
      ctx.addIssue({
        code: 'custom',
        path: ['query'],
        message: 'expected a read-only query starting with SELECT or WITH',
      });
    }
    if (source.chunk_rows !== undefined && source.key === undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['chunk_rows'],
        message: 'chunk_rows needs key: chunks are key ranges',
      });
    }
    const names = new Set<string>();
    source.shards?.forEach((shard, index) => {
      if (names.has(shard.name)) {
        ctx.addIssue({
          code: 'custom',
          path: ['shards', index, 'name'],
          message: `duplicate shard name "${shard.name}"`,
        });
      }
      names.add(shard.name);
    });
  });

export const loadSchema = z
  .strictObject({
    mode: z.enum(['full', 'incremental', 'merge']),
    cursor: identifier.optional(),
    start_from: z.union([z.string(), z.number()]).optional(),
    lag: durationSchema
      .optional()
      .describe(
        'Re-read this window below the watermark (date/timestamp cursors): rows committed late are still loaded',
      ),
    null_cursor: z
      .enum(['fail', 'exclude', 'include'])
      .default('fail')
      .describe(
        'Rows whose cursor is NULL: fail the run, exclude them (counted in every run), or include them (merge only: re-merged every run)',
      ),
    open_transactions: z
      .enum(['wait', 'ignore'])
      .default('wait')
      .describe(
        'PostgreSQL, timestamp cursors: hold the high-water mark below the oldest open transaction, so rows it commits later are not skipped',
      ),
  })
  .superRefine((load, ctx) => {
    if (load.mode === 'incremental' && load.cursor === undefined) {
      ctx.addIssue({ code: 'custom', path: ['cursor'], message: 'incremental loads need a cursor column' });
    }
    if (load.null_cursor === 'include' && load.mode !== 'merge') {
      ctx.addIssue({
        code: 'custom',
        path: ['null_cursor'],
        message: `null_cursor: include needs mode merge (a NULL cursor has no position, so ${load.mode} could not tell loaded rows from new ones); use exclude or fail`,
      });
    }
  });

export const transformSchema = z
  .strictObject({
    target: identifier,
    from: identifier.optional(),
    split: z
      .strictObject({ column: identifier, delimiter: z.string().min(1), index: z.number().int() })
      .optional(),
    join: z
      .strictObject({ columns: z.array(identifier).min(1), separator: z.string().default('') })
      .optional(),
    type: typeNameSchema.optional(),
  })
  .superRefine((t, ctx) => {
    const kinds = [t.from, t.split, t.join].filter((k) => k !== undefined).length;
    if (kinds !== 1) {
      ctx.addIssue({ code: 'custom', path: ['target'], message: 'give exactly one of from, split or join' });
    }
  });

const deltaDestination = z.strictObject({
  type: z.literal('delta'),
  path: z.string().min(1),
  /** A data file is closed once it passes this size; a large run writes several (default 128MB). */
  target_file_size: sizeSchema
    .refine((bytes) => bytes >= 1024 * 1024, { error: 'expected at least 1MB' })
    .optional(),
});
const duckdbDestination = z.strictObject({
  type: z.literal('duckdb'),
  path: z.string().min(1),
  table: z.string().min(1),
});
const postgresDestination = z.strictObject({
  type: z.literal('postgres'),
  connection: connectionFieldSchema,
  table: z.string().min(1),
});
const bigqueryDestination = z.strictObject({
  type: z.literal('bigquery'),
  project: z.string().min(1),
  dataset: z.string().regex(/^[A-Za-z0-9_]+$/, 'expected a dataset id of letters, digits and _'),
  table: z.string().regex(/^[A-Za-z0-9_$]+$/, 'expected a table id of letters, digits and _'),
  location: z.string().min(1).optional(),
  key_file: z.string().min(1).optional(),
  format: z.enum(['ndjson', 'parquet']).default('ndjson'),
  api_endpoint: z
    .url()
    .optional()
    .describe('Another BigQuery endpoint (tests, emulators); authentication is disabled'),
});

export const destinationSchema = z.discriminatedUnion('type', [
  deltaDestination,
  duckdbDestination,
  postgresDestination,
  bigqueryDestination,
]);

export const errorHandlingSchema = z.strictObject({
  max_retries: z.number().int().min(0).max(100).default(3),
  retry_delay: durationSchema.default(5_000),
  max_retry_delay: durationSchema.default(15 * 60_000),
  exponential_backoff: z.boolean().default(true),
  retry_timeout: durationSchema.default(3_600_000),
});

export const pipelineSchema = z
  .strictObject({
    name: z
      .string()
      .regex(PIPELINE_NAME_RE, 'expected a name of lowercase letters, digits, _ and -')
      // The daemon's own log directory is <logdir>/etld/.
      .refine((name) => name !== 'etld', {
        error: '"etld" is reserved for the daemon\'s own logs; choose another name',
      }),
    description: z.string().optional(),
    schedule: z
      .string()
      .optional()
      .superRefine((text, ctx) => {
        const parsed = parseSchedule(text);
        if (!parsed.ok) ctx.addIssue({ code: 'custom', message: parsed.reason });
      }),
    timezone: z
      .string()
      .optional()
      .refine((zone) => zone === undefined || isValidTimeZone(zone), {
        error: (issue) => `expected an IANA timezone such as Europe/Warsaw, got "${String(issue.input)}"`,
      }),
    overlap: z.enum(['skip', 'queue']).default('skip'),
    misfire: z.enum(['run_once', 'skip']).default('run_once'),
    stall_timeout: durationSchema.optional(),
    source: sourceSchema,
    load: loadSchema,
    transform: z.array(transformSchema).default([]),
    /** Data quality checks on the staged batch before the commit (checks-schema.ts). */
    checks: checksSchema,
    destination: destinationSchema,
    schema_evolution: z.enum(['add_columns', 'strict']).default('add_columns'),
    error_handling: errorHandlingSchema.default({
      max_retries: 3,
      retry_delay: 5_000,
      max_retry_delay: 15 * 60_000,
      exponential_backoff: true,
      retry_timeout: 3_600_000,
    }),
    connection_retry: z
      .strictObject({
        attempts: z.number().int().min(1).max(20).default(3),
        delay: durationSchema.default(1_000),
      })
      .default({ attempts: 3, delay: 1_000 }),
    /**
     * The last successful run may be at most this old before the pipeline counts as stale (one
     * alert, and one on recovery); `off` disables the daemon's default (`defaults.freshness`).
     */
    freshness: z
      .union([z.literal('off'), durationSchema])
      .optional()
      .describe('e.g. 2h: alert when the last successful run is older; off: no freshness check'),
    alerts: z
      .strictObject({
        email: emailListSchema.default([]),
        /** Alert channels of etld.yaml (alerts.channels) this pipeline's alerts also go to. */
        channels: z.array(z.string().regex(PIPELINE_NAME_RE, 'expected a channel name')).default([]),
      })
      .default({ email: [], channels: [] }),
  })
  .superRefine((pipeline, ctx) => {
    pipeline.source.key?.forEach((k, i) => {
      if (k === SHARD_COLUMN && pipeline.source.shards === undefined) {
        ctx.addIssue({
          code: 'custom',
          path: ['source', 'key', i],
          message: `${SHARD_COLUMN} exists only for sharded sources (source.shards)`,
        });
      }
    });
    if (pipeline.load.mode === 'merge' && pipeline.source.key === undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['source', 'key'],
        message: 'merge loads need key (the upsert key)',
      });
    }
    const targets = new Set<string>();
    pipeline.transform.forEach((t, index) => {
      if (t.target.startsWith('_etl_')) {
        ctx.addIssue({
          code: 'custom',
          path: ['transform', index, 'target'],
          message: `"${t.target}": names starting with _etl_ are reserved for metadata columns`,
        });
      }
      if (targets.has(t.target)) {
        ctx.addIssue({
          code: 'custom',
          path: ['transform', index, 'target'],
          message: `duplicate target "${t.target}"`,
        });
      }
      targets.add(t.target);
    });
    const columns = pipeline.source.columns;
    if (columns !== undefined) {
      const known = new Set(columns);
      const check = (column: string, path: (string | number)[]): void => {
        if (!known.has(column)) {
          ctx.addIssue({
            code: 'custom',
            path,
            message: `unknown column "${column}": not in source.columns (${columns.join(', ')})`,
          });
        }
      };
      pipeline.transform.forEach((t, index) => {
        if (t.from !== undefined) check(t.from, ['transform', index, 'from']);
        if (t.split !== undefined) check(t.split.column, ['transform', index, 'split', 'column']);
        t.join?.columns.forEach((c, i) => check(c, ['transform', index, 'join', 'columns', i]));
      });
      // A full load ignores its cursor (a warning says so, pipeline-warnings.ts): no need for the column.
      if (pipeline.load.cursor !== undefined && pipeline.load.mode !== 'full')
        check(pipeline.load.cursor, ['load', 'cursor']);
      // Checks read the loaded columns: the source's, the transforms' targets and the metadata.
      const loaded = new Set([...columns, ...targets]);
      pipeline.checks.forEach((qualityCheck, index) => {
        checkColumns(qualityCheck).forEach((column) => {
          if (!loaded.has(column) && !column.startsWith('_etl_')) {
            ctx.addIssue({
              code: 'custom',
              path: ['checks', index],
              message: `check "${qualityCheck.name}": unknown column "${column}": not in source.columns (${columns.join(', ')}) or a transform target`,
            });
          }
        });
      });
      pipeline.source.key?.forEach((k, i) => {
        if (k !== SHARD_COLUMN) check(k, ['source', 'key', i]);
      });
    }
  });

export type PipelineConfig = z.output<typeof pipelineSchema>;
export type SourceConfig = PipelineConfig['source'];
export type TransformConfig = PipelineConfig['transform'][number];
export type DestinationConfig = PipelineConfig['destination'];
export type DestinationKind = DestinationConfig['type'];
export type SourceKind = SourceConfig['type'];
