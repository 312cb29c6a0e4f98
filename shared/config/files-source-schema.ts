/**
 * The fields of a `type: files` source (CSV, NDJSON or Parquet files under a directory or an
 * object-store prefix, each file loaded once), merged into `sourceSchema` beside the database
 * fields. They carry no zod defaults, so a database source's resolved config stays free of them;
 * `fileSourceOptions()` applies the defaults where the files source reads them.
 *
 * Decisions:
 * - `url` is a URL (`s3://`, `gs://`, `az://`, `abfss://`, `wasbs://`, `file://`) or an absolute
 *   path: a relative path would depend on the daemon's working directory.
 * - `min_age` defaults to 10 s: a file still being written into a local directory is not loaded
 *   half-written (object stores show whole objects only, so `0s` is safe there).
 */
import { z } from 'zod';
import { durationSchema } from './common-schema.js';
import { storageSchema } from './storage-schema.js';

export const FILE_FORMAT_NAMES = ['csv', 'ndjson', 'parquet'] as const;
export const FILE_COMPRESSION_NAMES = ['auto', 'none', 'gzip', 'zstd'] as const;
export const CSV_ENCODINGS = ['utf-8', 'utf-16', 'latin-1'] as const;

const oneCharacter = (what: string) =>
  z.string().refine((text) => [...text].length === 1, { error: `expected one character (${what})` });

export const csvOptionsSchema = z
  .strictObject({
    delimiter: oneCharacter('the field delimiter, e.g. "," ";" or "\\t"')
      .optional()
      .describe('The field delimiter (default ",")'),
    quote: oneCharacter('the quote character').optional().describe("The quote character (default '\"')"),
    escape: oneCharacter('the escape character inside quotes')
      .optional()
      .describe('The escape character inside quoted fields (default: the quote, doubled)'),
    header: z.boolean().optional().describe('The first line names the columns (default true)'),
    encoding: z
      .enum(CSV_ENCODINGS)
      .optional()
      .describe('The text encoding (default utf-8; a BOM is skipped)'),
    null_string: z
      .string()
      .optional()
      .describe('The text that means NULL (default: an empty unquoted field)'),
  })
  .describe('CSV options');

export const fileSourceFields = {
  url: z
    .string()
    .min(1)
    .optional()
    .describe(
      'files: the directory or object-store prefix holding the files (s3://bucket/prefix, gs://…, az://…, file:///dir or an absolute path)',
    ),
  pattern: z
    .string()
    .min(1)
    .optional()
    .describe('files: which files under url to load, a glob such as `**/*.csv.gz` (default `**/*`)'),
  format: z
    .enum(FILE_FORMAT_NAMES)
    .optional()
    .describe('files: csv, ndjson or parquet (default: from each file name extension)'),
  compression: z
    .enum(FILE_COMPRESSION_NAMES)
    .optional()
    .describe('files: gzip or zstd compression of CSV and NDJSON files (default auto: from the extension)'),
  csv: csvOptionsSchema.optional(),
  storage: storageSchema.optional(),
  sample_rows: z
    .number()
    .int()
    .positive()
    .optional()
    .describe('files: rows of each CSV/NDJSON file read to infer its column types (default 10000)'),
  nested: z
    .enum(['json', 'refuse'])
    .optional()
    .describe(
      'files: nested values (structs, lists, maps): load them as JSON text (default) or refuse the file',
    ),
  on_changed_file: z
    .enum(['fail', 'ignore', 'reload'])
    .optional()
    .describe(
      'files: a file that changed after it was loaded (same path, new ETag or size): fail the run (default), ignore it, or load it again',
    ),
  on_bad_file: z
    .enum(['fail', 'skip'])
    .optional()
    .describe(
      'files: an unreadable, corrupt or schema-incompatible file: fail the run (default), or skip it into the quarantine list with an alert',
    ),
  min_age: durationSchema
    .optional()
    .describe('files: leave files modified more recently than this for a later run (default 10s)'),
  max_files_per_run: z
    .number()
    .int()
    .positive()
    .optional()
    .describe('files: at most this many new files per run; the rest load in the next runs (default 10000)'),
} as const;

/** The file source fields as the engine uses them, defaults applied. */
export interface FileSourceOptions {
  readonly url: string;
  readonly pattern: string;
  readonly format: (typeof FILE_FORMAT_NAMES)[number] | undefined;
  readonly compression: (typeof FILE_COMPRESSION_NAMES)[number];
  readonly csv: {
    /** Undefined: `,`, or a tab for `.tsv` files. */
    readonly delimiter: string | undefined;
    readonly quote: string;
    readonly escape: string;
    readonly header: boolean;
    readonly encoding: (typeof CSV_ENCODINGS)[number];
    readonly nullString: string | null;
  };
  readonly sampleRows: number;
  readonly nested: 'json' | 'refuse';
  readonly onChangedFile: 'fail' | 'ignore' | 'reload';
  readonly onBadFile: 'fail' | 'skip';
  readonly minAgeMs: number;
  readonly maxFilesPerRun: number;
}

type FileSourceFields = {
  readonly [K in keyof typeof fileSourceFields]?: z.output<(typeof fileSourceFields)[K]>;
};

export const DEFAULT_FILE_PATTERN = '**/*';
export const DEFAULT_MIN_AGE_MS = 10_000;
export const DEFAULT_MAX_FILES_PER_RUN = 10_000;
export const DEFAULT_SAMPLE_ROWS = 10_000;

export function fileSourceOptions(source: FileSourceFields): FileSourceOptions {
  const csv = source.csv ?? {};
  const quote = csv.quote ?? '"';
  return {
    url: source.url ?? '',
    pattern: source.pattern ?? DEFAULT_FILE_PATTERN,
    format: source.format,
    compression: source.compression ?? 'auto',
    csv: {
      delimiter: csv.delimiter,
      quote,
      escape: csv.escape ?? quote,
      header: csv.header ?? true,
      encoding: csv.encoding ?? 'utf-8',
      nullString: csv.null_string ?? null,
    },
    sampleRows: source.sample_rows ?? DEFAULT_SAMPLE_ROWS,
    nested: source.nested ?? 'json',
    onChangedFile: source.on_changed_file ?? 'fail',
    onBadFile: source.on_bad_file ?? 'fail',
    minAgeMs: source.min_age ?? DEFAULT_MIN_AGE_MS,
    maxFilesPerRun: source.max_files_per_run ?? DEFAULT_MAX_FILES_PER_RUN,
  };
}

const URL_SCHEMES = /^(s3|s3a|gs|az|abfss|wasbs|file):\/\//i;

/** Why `url` cannot name a files source's root, or undefined when it can. */
export function fileUrlProblem(url: string): string | undefined {
  if (URL_SCHEMES.test(url)) return undefined;
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(url))
    return `unsupported URL scheme in "${url}": use s3://, gs://, az://, abfss://, wasbs://, file:// or an absolute path`;
  if (!url.startsWith('/'))
    return `"${url}" is a relative path: give an absolute path or a file:// URL (a relative path would depend on the daemon's working directory)`;
  return undefined;
}

/** The database-only fields a files source refuses, and the file-only fields a database source refuses. */
export const DATABASE_ONLY_FIELDS = ['connection', 'shards', 'table', 'query', 'chunk_rows'] as const;
export const FILES_ONLY_FIELDS = Object.keys(fileSourceFields) as readonly (keyof typeof fileSourceFields)[];
