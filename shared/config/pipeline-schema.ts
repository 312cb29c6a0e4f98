import { z } from 'zod';
import { connectionSchema, durationSchema, emailListSchema, sizeSchema } from './common-schema.js';
import { checkColumns, checksSchema } from './checks-schema.js';
import { storageSchema } from './storage-schema.js';
import {
  DATABASE_ONLY_FIELDS,
  FILES_ONLY_FIELDS,
  fileSourceFields,
  fileUrlProblem,
} from './files-source-schema.js';
import { isValidTimeZone, parseSchedule } from './schedule.js';
import { parseTypeName, TYPE_NAME_HINT } from '../types.js';
import { parseQualifiedName } from '../qualified-name.js';
import { bigQueryNameProblem, loadedColumnNames, type ColumnNamePolicy } from '../column-names.js';
import {
  multiTableFields,
  tableOverrideFields,
  tablePatternsFields,
  templateProblem,
} from './tables-schema.js';
import { parseTablePattern } from '../table-patterns.js';

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
  z.object({
    name: z
      .string()
      .regex(PIPELINE_NAME_RE, 'expected a shard name of [a-z0-9_-]+')
      .describe("The shard's name: every row carries it in _etl_shard, and watermarks are kept per shard"),
  }),
);

export const sourceSchema = z
  .strictObject({
    type: z
      .enum(['postgres', 'mysql', 'sqlserver', 'files'])
      .describe(
        'The database (PostgreSQL, MySQL/MariaDB or SQL Server), or files: CSV, NDJSON or Parquet files in a directory or object store',
      ),
    // No .describe(): the JSON Schema knows the field by this schema's identity (block or name).
    // Required for databases (checked below); a files source has url instead.
    connection: connectionFieldSchema.optional(),
    shards: z
      .array(shardSchema)
      .min(1)
      .optional()
      .describe(
        'Databases holding the same table, read in parallel; each entry overrides fields of connection and names the shard',
      ),
    table: z
      .string()
      .min(1)
      .optional()
      .describe(
        'The table to read, schema-qualified where needed; parts quoted as in SQL (give table, tables or query)',
      ),
    ...tablePatternsFields,
    query: z
      .string()
      .min(1)
      .optional()
      .describe('A read-only SELECT or WITH query to read instead of a table (give table or query)'),
    columns: z
      .union([z.array(identifier).min(1), z.record(identifier, typeNameSchema)])
      .optional()
      .describe(
        'The columns to read (default: all of the table); files may give a map of column → type instead of inferring the types',
      ),
    key: z
      .array(identifier)
      .min(1)
      .optional()
      .describe(
        'The row identity: merge loads upsert by it and chunk_rows splits by it (sharded sources add _etl_shard)',
      ),
    chunk_rows: z
      .number()
      .int()
      .positive()
      .optional()
      .describe('Split the read into key ranges of about this many rows, read in parallel (needs key)'),
    parallelism: z
      .number()
      .int()
      .min(1)
      .max(64)
      .optional()
      .describe(
        'At most this many shards or chunks read at once (default: defaults.parallelism of etld.yaml)',
      ),
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
    ...fileSourceFields,
  })
  .superRefine((source, ctx) => {
    if (source.type === 'files') {
      checkFilesSource(source, ctx);
      for (const field of ['tables', 'exclude'] as const)
        if (source[field] !== undefined)
          ctx.addIssue({
            code: 'custom',
            path: [field],
            message: `${field} is a field of database sources, not of files`,
          });
      return;
    }
    for (const field of FILES_ONLY_FIELDS) {
      if (source[field] !== undefined)
        ctx.addIssue({
          code: 'custom',
          path: [field],
          message: `${field} is a field of files sources (type: files)`,
        });
    }
    if (source.connection === undefined)
      ctx.addIssue({
        code: 'custom',
        path: ['connection'],
        message: `required field is missing (a ${source.type} source needs a connection)`,
      });
    if (source.columns !== undefined && !Array.isArray(source.columns)) {
      ctx.addIssue({
        code: 'custom',
        path: ['columns'],
        message: 'expected a list of column names (a map of column → type is for files sources)',
      });
    }
    const relations = [source.table, source.query, source.tables].filter((r) => r !== undefined).length;
    if (relations !== 1) {
      ctx.addIssue({
        code: 'custom',
        path: ['table'],
        message: 'give exactly one of table, tables or query',
      });
    }
    checkTablePatterns(source, source.type, ctx);
    if (source.table !== undefined) {
      const parsed = parseQualifiedName(source.table, source.type);
      if (!parsed.ok) ctx.addIssue({ code: 'custom', path: ['table'], message: parsed.reason });
    }
    if (source.query !== undefined && !/^\s*(select|with)\b/i.test(source.query)) {
      ctx.addIssue({
        code: 'custom',
        path: ['query'],
        message: 'expected a read-only query starting with SELECT or WITH',
      });
    }
    // A multi-table source's tables chunk by their own keys (primary keys by default).
    if (source.chunk_rows !== undefined && source.key === undefined && source.tables === undefined) {
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

/** `source.tables` / `source.exclude`: valid patterns of the source's dialect; columns are per table. */
function checkTablePatterns(
  source: {
    readonly tables?: readonly string[] | undefined;
    readonly exclude?: readonly string[] | undefined;
    readonly columns?: unknown;
  },
  dialect: DatabaseSourceKind,
  ctx: z.RefinementCtx,
): void {
  for (const field of ['tables', 'exclude'] as const) {
    source[field]?.forEach((text, index) => {
      const parsed = parseTablePattern(text, dialect);
      if (!parsed.ok) ctx.addIssue({ code: 'custom', path: [field, index], message: parsed.reason });
    });
  }
  if (source.exclude !== undefined && source.tables === undefined)
    ctx.addIssue({
      code: 'custom',
      path: ['exclude'],
      message: 'exclude narrows source.tables: give tables',
    });
  if (source.tables !== undefined && source.columns !== undefined)
    ctx.addIssue({
      code: 'custom',
      path: ['columns'],
      message: 'a multi-table pipeline lists columns per table (tables.<name>.columns)',
    });
}

function checkFilesSource(
  source: { readonly url?: string | undefined } & Partial<
    Record<(typeof DATABASE_ONLY_FIELDS)[number], unknown>
  >,
  ctx: z.RefinementCtx,
): void {
  if (source.url === undefined) {
    ctx.addIssue({
      code: 'custom',
      path: ['url'],
      message: 'a files source needs url (a directory or object-store prefix)',
    });
  } else {
    const problem = fileUrlProblem(source.url);
    if (problem !== undefined) ctx.addIssue({ code: 'custom', path: ['url'], message: problem });
  }
  for (const field of DATABASE_ONLY_FIELDS) {
    if (source[field] !== undefined)
      ctx.addIssue({
        code: 'custom',
        path: [field],
        message: `${field} is a field of database sources, not of files`,
      });
  }
}

/** The column names `source.columns` lists (a list, or the names of a files source's typed map). */
export function sourceColumnNames(source: {
  readonly columns?: readonly string[] | Readonly<Record<string, string>> | undefined;
}): readonly string[] | undefined {
  const columns = source.columns;
  if (columns === undefined) return undefined;
  // Array.isArray narrows a readonly array poorly (to any[]): test the map form instead.
  if (isColumnTypeMap(columns)) return Object.keys(columns);
  return columns;
}

function isColumnTypeMap(
  columns: readonly string[] | Readonly<Record<string, string>>,
): columns is Readonly<Record<string, string>> {
  return !Array.isArray(columns);
}

export const loadSchema = z
  .strictObject({
    mode: z
      .enum(['full', 'incremental', 'merge'])
      .describe(
        'full: replace the table with a snapshot; incremental: append rows past the watermark; merge: upsert by source.key (docs/load-modes.md)',
      ),
    cursor: identifier
      .optional()
      .describe('The column whose growing values mark progress (incremental: required; merge: optional)'),
    start_from: z
      .union([z.string(), z.number()])
      .optional()
      .describe("The first run's lower bound of the cursor (default: no bound, every row)"),
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
    target: identifier.describe('The column this transform writes (a new column, or one it replaces)'),
    from: identifier.optional().describe('Copy this source column (optionally cast with type)'),
    split: z
      .strictObject({
        column: identifier.describe('The column to split'),
        delimiter: z.string().min(1).describe('The text it is split at'),
        index: z.number().int().describe('Which part to keep, from 0'),
      })
      .optional()
      .describe('One part of a column split at a delimiter'),
    join: z
      .strictObject({
        columns: z.array(identifier).min(1).describe('The columns to join, in order (NULLs are skipped)'),
        separator: z.string().default('').describe('The text between the values'),
      })
      .optional()
      .describe('Several columns joined into one text'),
    type: typeNameSchema.optional().describe(`Cast the result to this type: ${TYPE_NAME_HINT}`),
  })
  .superRefine((t, ctx) => {
    const kinds = [t.from, t.split, t.join].filter((k) => k !== undefined).length;
    if (kinds !== 1) {
      ctx.addIssue({ code: 'custom', path: ['target'], message: 'give exactly one of from, split or join' });
    }
  });

const lakePath =
  'relative paths resolve under the lake directory (DIR/lake with a home, else /var/lib/etld/lake)';

/** Every destination's `column_names` (shared/column-names.ts; docs/configuration.md "Column names"). */
const columnNamesField = z
  .enum(['keep', 'snake_case'])
  // Optional rather than defaulted: absent means keep, and configs built in code need not name it.
  .optional()
  .describe('Column names in the destination: keep (default) or snake_case (docs/configuration.md)');

const deltaDestination = z
  .strictObject({
    type: z
      .literal('delta')
      .describe(
        'A Delta Lake table in a local directory or an object store (S3, GCS, Azure Blob / ADLS Gen2)',
      ),
    path: z
      .string()
      .min(1)
      .describe(
        `The table's root: a local directory, file:///dir, s3://bucket/prefix, gs://bucket/prefix, az://container/prefix or abfss://container@account.dfs.core.windows.net/prefix; ${lakePath}`,
      ),
    storage: storageSchema
      .optional()
      .describe(
        "Object-store endpoint, region and credentials (docs/storage.md); without it each cloud's standard credential chain",
      ),
    /** A data file is closed once it passes this size; a large run writes several (default 128MB). */
    target_file_size: sizeSchema
      .refine((bytes) => bytes >= 1024 * 1024, { error: 'expected at least 1MB' })
      .optional()
      .describe(
        'A data file is closed once it passes this size, so a large run writes several (default 128MB)',
      ),
    partition_by: z
      .array(z.string().min(1))
      .min(1)
      .optional()
      .describe(
        'Partition columns of a table etld creates (Hive-style col=value/ directories); string, integer, decimal, date, boolean and timestamp columns. An existing table keeps its own partitioning: a different list is refused',
      ),
    change_data_feed: z
      .boolean()
      .optional()
      .describe(
        'Set delta.enableChangeDataFeed=true on the table (created or existing), so merges record their changed rows in _change_data files for change feed readers',
      ),
    column_names: columnNamesField,
  })
  .describe('Parquet files and a _delta_log written by etld, read by Spark, delta-rs and DuckDB');
const duckdbDestination = z
  .strictObject({
    type: z.literal('duckdb').describe('A table in a DuckDB database file'),
    path: z.string().min(1).describe(`The database file; ${lakePath}`),
    table: z.string().min(1).describe('The table, created on the first run'),
    column_names: columnNamesField,
  })
  .describe('The file is opened only while a run writes to it, so other tools can read it between runs');
const postgresDestination = z
  .strictObject({
    type: z.literal('postgres').describe('A PostgreSQL table'),
    connection: connectionFieldSchema, // as for a source (see there why it has no .describe())
    table: z.string().min(1).describe('The table, schema-qualified where needed; created on the first run'),
    column_names: columnNamesField,
  })
  .describe('Loaded with COPY; full loads swap the table atomically, merges upsert in one transaction');
const bigqueryDestination = z
  .strictObject({
    type: z.literal('bigquery').describe('A Google BigQuery table'),
    project: z.string().min(1).describe('The Google Cloud project'),
    dataset: z
      .string()
      .regex(/^[A-Za-z0-9_]+$/, 'expected a dataset id of letters, digits and _')
      .describe('The dataset (it must exist)'),
    table: z
      .string()
      .regex(
        /^([A-Za-z0-9_$]|\{[a-z]+\})+$/,
        'expected a table id of letters, digits and _ (a multi-table pipeline: with {schema}, {table}, {shard})',
      )
      .describe('The table, created on the first run'),
    location: z.string().min(1).optional().describe("Where the jobs run, e.g. EU (default: the dataset's)"),
    key_file: z
      .string()
      .min(1)
      .optional()
      .describe('A service-account key file (default: application default credentials)'),
    format: z
      .enum(['ndjson', 'parquet'])
      .default('ndjson')
      .describe('The format of the files the load jobs read'),
    api_endpoint: z
      .url()
      .optional()
      .describe('Another BigQuery endpoint (tests, emulators); authentication is disabled'),
    column_names: columnNamesField,
  })
  .describe(
    'Load jobs with deterministic ids; merges go through a staging table (daemon/destinations/bigquery/README.md)',
  );

export const destinationSchema = z.discriminatedUnion('type', [
  deltaDestination,
  duckdbDestination,
  postgresDestination,
  bigqueryDestination,
]);

export const errorHandlingSchema = z.strictObject({
  max_retries: z
    .number()
    .int()
    .min(0)
    .max(100)
    .default(3)
    .describe('Retries of a failed run before it fails for good (and alerts)'),
  retry_delay: durationSchema.default(5_000).describe('The wait before the first retry'),
  max_retry_delay: durationSchema.default(15 * 60_000).describe('The longest wait between two attempts'),
  exponential_backoff: z.boolean().default(true).describe('Double the wait after each failed attempt'),
  retry_timeout: durationSchema
    .default(3_600_000)
    .describe('No retry starts later than this after the first failure'),
});

export const pipelineSchema = z
  .strictObject({
    name: z
      .string()
      .regex(PIPELINE_NAME_RE, 'expected a name of lowercase letters, digits, _ and -')
      // The daemon's own log directory is <logdir>/etld/.
      .refine((name) => name !== 'etld', {
        error: '"etld" is reserved for the daemon\'s own logs; choose another name',
      })
      .describe('The pipeline\'s name, unique on the host (etlctl and the logs use it); "etld" is reserved'),
    description: z.string().optional().describe('A line for people: shown by etlctl status and the console'),
    schedule: z
      .string()
      .optional()
      .superRefine((text, ctx) => {
        const parsed = parseSchedule(text);
        if (!parsed.ok) ctx.addIssue({ code: 'custom', message: parsed.reason });
      })
      .describe(
        'When runs fire: 5/6-field cron, @hourly/@daily/@weekly/@monthly, "every 15m", or "at 2026-12-01T02:00" once; none: manual runs only',
      ),
    timezone: z
      .string()
      .optional()
      .refine((zone) => zone === undefined || isValidTimeZone(zone), {
        error: (issue) => `expected an IANA timezone such as Europe/Warsaw, got "${String(issue.input)}"`,
      })
      .describe("The IANA time zone of the schedule (default: defaults.timezone, else the host's)"),
    overlap: z
      .enum(['skip', 'queue'])
      .default('skip')
      .describe('A schedule firing while a run is active: skip it, or queue one run for afterwards'),
    misfire: z
      .enum(['run_once', 'skip'])
      .default('run_once')
      .describe('Schedules missed while the daemon was down: one catch-up run, or none'),
    stall_timeout: durationSchema
      .optional()
      .describe(
        'Cancel and retry an attempt whose progress has not moved for this long (default: defaults.stall_timeout)',
      ),
    source: sourceSchema.describe('Where the rows come from'),
    load: loadSchema.describe('How rows are loaded: the mode and its incremental position'),
    transform: z
      .array(transformSchema)
      .default([])
      .describe('Column transforms, applied in order; columns not named pass through unchanged'),
    /** Data quality checks on the staged batch before the commit (checks-schema.ts). */
    checks: checksSchema.describe(
      'Data quality checks judged on each batch before the commit (docs/checks.md); each entry names one check',
    ),
    destination: destinationSchema.describe(
      'Where the rows go; `type` selects the fields. A multi-table pipeline names each table by a template: {schema}, {table}, {shard}',
    ),
    tables: z
      .record(
        z.string().min(1),
        z
          .strictObject({
            ...tableOverrideFields,
            transform: z
              .array(transformSchema)
              .optional()
              .describe("This table's transforms, instead of the file's transform list"),
          })
          .describe('Settings of one table of a multi-table pipeline'),
      )
      .optional()
      .describe(
        'Per-table settings of a multi-table pipeline, by table name as source.tables writes it (key, cursor, mode, columns, chunk_rows, transform)',
      ),
    ...multiTableFields,
    schema_evolution: z
      .enum(['add_columns', 'strict'])
      .default('add_columns')
      .describe(
        'A new source column: add it to the destination, or fail the run (strict); a changed or dropped column always fails it',
      ),
    error_handling: errorHandlingSchema.describe('Retries of a failed run').default({
      max_retries: 3,
      retry_delay: 5_000,
      max_retry_delay: 15 * 60_000,
      exponential_backoff: true,
      retry_timeout: 3_600_000,
    }),
    connection_retry: z
      .strictObject({
        attempts: z.number().int().min(1).max(20).default(3).describe('Connection attempts per try'),
        delay: durationSchema.default(1_000).describe('The wait between two attempts'),
      })
      .describe('Quick reconnects inside one attempt, before it counts as failed')
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
        email: emailListSchema
          .default([])
          .describe("Addresses that get this pipeline's alerts, besides alerts.email of etld.yaml"),
        /** Alert channels of etld.yaml (alerts.channels) this pipeline's alerts also go to. */
        channels: z
          .array(z.string().regex(PIPELINE_NAME_RE, 'expected a channel name'))
          .default([])
          .describe(
            "Channels of etld.yaml (alerts.channels, by name) that this pipeline's alerts also go to",
          ),
      })
      .describe("Where this pipeline's alerts go, besides the daemon's defaults (docs/observability.md)")
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
    const multiTable = pipeline.source.tables !== undefined;
    checkMultiTable(pipeline, multiTable, ctx);
    // A multi-table pipeline's keys default to each table's primary key (checked per table at run time).
    if (pipeline.load.mode === 'merge' && pipeline.source.key === undefined && !multiTable) {
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
    // A files source's progress is its file ledger; every other incremental load needs a cursor.
    if (
      pipeline.load.mode === 'incremental' &&
      pipeline.load.cursor === undefined &&
      pipeline.source.type !== 'files' &&
      !multiTable
    ) {
      ctx.addIssue({
        code: 'custom',
        path: ['load', 'cursor'],
        message: 'incremental loads need a cursor column',
      });
    }
    if (pipeline.source.type === 'files' && pipeline.load.cursor !== undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['load', 'cursor'],
        message:
          'a files source has no cursor: incremental loads take the files not loaded yet, merge upserts them by source.key',
      });
    }
    const columns = sourceColumnNames(pipeline.source);
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
    checkLoadedNames(pipeline, ctx);
  });

/** Where each destination kind names its table (the field a template goes in). */
function destinationNameField(destination: { readonly type: string }): 'path' | 'table' {
  return destination.type === 'delta' ? 'path' : 'table';
}

/** The destination template, and the fields only a multi-table pipeline may set. */
function checkMultiTable(
  pipeline: {
    readonly destination: { readonly type: string; readonly path?: string; readonly table?: string };
    readonly tables?: Readonly<Record<string, unknown>> | undefined;
    readonly source: { readonly type: string };
  },
  multiTable: boolean,
  ctx: z.RefinementCtx,
): void {
  const field = destinationNameField(pipeline.destination);
  const text = pipeline.destination[field];
  if (text !== undefined) {
    const problem = templateProblem(text, multiTable);
    if (problem !== undefined)
      ctx.addIssue({ code: 'custom', path: ['destination', field], message: problem });
  }
  if (!multiTable && pipeline.tables !== undefined)
    ctx.addIssue({
      code: 'custom',
      path: ['tables'],
      message: 'per-table settings belong to a multi-table pipeline (source.tables)',
    });
  if (multiTable && pipeline.tables !== undefined && pipeline.source.type !== 'files') {
    for (const name of Object.keys(pipeline.tables)) {
      const parsed = parseTablePattern(name, pipeline.source.type as DatabaseSourceKind);
      if (!parsed.ok) ctx.addIssue({ code: 'custom', path: ['tables', name], message: parsed.reason });
    }
  }
}

/**
 * What can be told of the loaded column names before the source is described: the listed
 * `source.columns` and the transform targets (the run checks the described table the same way).
 */
function checkLoadedNames(
  pipeline: {
    readonly source: { readonly columns?: readonly string[] | Readonly<Record<string, string>> | undefined };
    readonly transform: readonly { readonly target: string }[];
    readonly destination: { readonly type: string; readonly column_names?: ColumnNamePolicy | undefined };
  },
  ctx: z.RefinementCtx,
): void {
  const policy = pipeline.destination.column_names ?? 'keep';
  const targets = pipeline.transform.map((t) => t.target);
  const listed = sourceColumnNames(pipeline.source) ?? [];
  const named = [...listed.filter((c) => !targets.includes(c)), ...targets];
  const loaded = loadedColumnNames(named, policy);
  if (!loaded.ok) {
    ctx.addIssue({ code: 'custom', path: ['destination', 'column_names'], message: loaded.problem });
    return;
  }
  if (pipeline.destination.type !== 'bigquery') return;
  for (const name of loaded.names) {
    const problem = bigQueryNameProblem(name);
    if (problem !== undefined) {
      const target = targets.indexOf(name);
      ctx.addIssue({
        code: 'custom',
        path:
          target >= 0
            ? ['transform', target, 'target']
            : ['source', 'columns', Math.max(0, listed.indexOf(name))],
        message: problem,
      });
    }
  }
}

export type PipelineConfig = z.output<typeof pipelineSchema>;
export type SourceConfig = PipelineConfig['source'];
export type TransformConfig = PipelineConfig['transform'][number];
export type DestinationConfig = PipelineConfig['destination'];
export type DestinationKind = DestinationConfig['type'];
export type SourceKind = SourceConfig['type'];
/** The kinds read through a database connector (daemon/sources/registry.ts); `files` has none. */
export type DatabaseSourceKind = Exclude<SourceKind, 'files'>;

/** A database source's connection (the schema requires it for every kind but files). */
export function sourceConnection(source: SourceConfig): NonNullable<SourceConfig['connection']> {
  if (source.connection === undefined)
    throw new Error(`a ${source.type} source has no connection (the pipeline schema requires one)`);
  return source.connection;
}
