/**
 * Request bodies of the BigQuery v2 REST reference (Job, JobConfigurationLoad,
 * JobConfigurationQuery, Table, Dataset, QueryRequest), restricted to the fields the reference
 * defines: unknown fields are refused, like the real API's "Invalid JSON payload received.
 * Unknown name". Field lists follow cloud.google.com/bigquery/docs/reference/rest/v2; only the
 * fields etld could plausibly send are listed, everything else counts as unknown.
 */
import { z } from 'zod';

const FIELD_TYPES = [
  'STRING',
  'BYTES',
  'INTEGER',
  'INT64',
  'FLOAT',
  'FLOAT64',
  'NUMERIC',
  'BIGNUMERIC',
  'BOOLEAN',
  'BOOL',
  'TIMESTAMP',
  'DATE',
  'TIME',
  'DATETIME',
  'GEOGRAPHY',
  'JSON',
  'RECORD',
  'STRUCT',
  'INTERVAL',
  'RANGE',
] as const;

const int64String = z.string().regex(/^-?\d+$/, 'int64 fields are JSON strings of digits');

export const fieldSchema = z.strictObject({
  name: z.string().regex(/^[A-Za-z_][A-Za-z0-9_]{0,299}$/, 'field names are letters, digits and _ (max 300)'),
  type: z.enum(FIELD_TYPES),
  mode: z.enum(['NULLABLE', 'REQUIRED', 'REPEATED']).optional(),
  description: z.string().optional(),
  precision: int64String.optional(),
  scale: int64String.optional(),
  maxLength: int64String.optional(),
});
export type Field = z.output<typeof fieldSchema>;

const tableReference = z.strictObject({
  projectId: z.string().min(1),
  datasetId: z.string().regex(/^[A-Za-z0-9_]{1,1024}$/),
  tableId: z.string().regex(/^[\p{L}\p{M}\p{N}\p{Pc}\p{Pd}\p{Zs}$]{1,1024}$/u),
});

const writeDisposition = z.enum(['WRITE_TRUNCATE', 'WRITE_TRUNCATE_DATA', 'WRITE_APPEND', 'WRITE_EMPTY']);
const createDisposition = z.enum(['CREATE_IF_NEEDED', 'CREATE_NEVER']);
const schemaUpdateOptions = z.array(z.enum(['ALLOW_FIELD_ADDITION', 'ALLOW_FIELD_RELAXATION']));

export const loadConfigSchema = z.strictObject({
  destinationTable: tableReference,
  sourceFormat: z.enum(['CSV', 'NEWLINE_DELIMITED_JSON', 'AVRO', 'PARQUET', 'ORC', 'DATASTORE_BACKUP']),
  schema: z.strictObject({ fields: z.array(fieldSchema).min(1) }),
  writeDisposition: writeDisposition.optional(),
  createDisposition: createDisposition.optional(),
  schemaUpdateOptions: schemaUpdateOptions.optional(),
  maxBadRecords: z.number().int().min(0).optional(),
  ignoreUnknownValues: z.boolean().optional(),
  autodetect: z.boolean().optional(),
  decimalTargetTypes: z.array(z.enum(['NUMERIC', 'BIGNUMERIC', 'STRING'])).optional(),
  parquetOptions: z
    .strictObject({ enumAsString: z.boolean().optional(), enableListInference: z.boolean().optional() })
    .optional(),
});

export const queryConfigSchema = z.strictObject({
  query: z.string().min(1),
  useLegacySql: z.literal(false, 'etld sends GoogleSQL: useLegacySql must be false'),
  destinationTable: tableReference.optional(),
  writeDisposition: writeDisposition.optional(),
  createDisposition: createDisposition.optional(),
  schemaUpdateOptions: schemaUpdateOptions.optional(),
  priority: z.enum(['INTERACTIVE', 'BATCH']).optional(),
});

export const jobSchema = z.strictObject({
  jobReference: z.strictObject({
    projectId: z.string().min(1),
    jobId: z.string().regex(/^[A-Za-z0-9_-]{1,1024}$/, 'job ids are letters, digits, _ and - (max 1024)'),
    location: z.string().min(1).optional(),
  }),
  configuration: z
    .strictObject({
      load: loadConfigSchema.optional(),
      query: queryConfigSchema.optional(),
      labels: z.record(z.string(), z.string()).optional(),
      jobTimeoutMs: int64String.optional(),
      dryRun: z.boolean().optional(),
    })
    .refine(
      (c) => (c.load === undefined) !== (c.query === undefined),
      'exactly one of configuration.load / configuration.query',
    ),
});
export type JobRequest = z.output<typeof jobSchema>;

export const tableInsertSchema = z.strictObject({
  tableReference,
  schema: z.strictObject({ fields: z.array(fieldSchema).min(1) }),
  expirationTime: int64String.optional(),
  description: z.string().optional(),
  friendlyName: z.string().optional(),
});

export const tablePatchSchema = z.strictObject({
  schema: z.strictObject({ fields: z.array(fieldSchema).min(1) }),
});

export const datasetInsertSchema = z.strictObject({
  datasetReference: z.strictObject({
    projectId: z.string().min(1),
    datasetId: z.string().regex(/^[A-Za-z0-9_]{1,1024}$/),
  }),
  location: z.string().min(1).optional(),
  description: z.string().optional(),
});

export const queryRequestSchema = z.strictObject({
  query: z.string().min(1),
  useLegacySql: z.literal(false),
  location: z.string().optional(),
  timeoutMs: z.number().int().optional(),
  maxResults: z.number().int().optional(),
});

/** Rule of JobConfigurationLoad/Query.schemaUpdateOptions: only with WRITE_APPEND (or a partition decorator). */
export function schemaUpdateProblem(config: {
  writeDisposition?: string | undefined;
  schemaUpdateOptions?: string[] | undefined;
  destinationTable?: { tableId: string } | undefined;
}): string | undefined {
  if (config.schemaUpdateOptions === undefined || config.schemaUpdateOptions.length === 0) return undefined;
  const write = config.writeDisposition ?? 'WRITE_APPEND';
  if (write === 'WRITE_APPEND' || write === 'WRITE_TRUNCATE_DATA') return undefined;
  if (write === 'WRITE_TRUNCATE' && config.destinationTable?.tableId.includes('$')) return undefined;
  return `Schema update options should only be specified with WRITE_APPEND disposition, or with WRITE_TRUNCATE disposition on a table partition (got ${write})`;
}

/**
 * TestIamPermissionsRequest on a table (`tables/{t}:testIamPermissions`): permission names without
 * wildcards; only table-level `bigquery.tables.*` permissions are valid for a table resource.
 */
export const testIamPermissionsSchema = z.strictObject({
  permissions: z
    .array(
      z
        .string()
        .regex(
          /^bigquery\.tables\.[A-Za-z]+$/,
          'only bigquery.tables.* permissions are valid for a table (no wildcards)',
        ),
    )
    .min(1),
});
