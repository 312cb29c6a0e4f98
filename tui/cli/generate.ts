import {
  PIPELINE_NAME_RE,
  type DestinationKind,
  type SourceKind,
} from '../../shared/config/pipeline-schema.js';
import { EtlError } from '../../shared/errors.js';
import { parseTablePattern } from '../../shared/table-patterns.js';

export const SOURCE_KINDS: readonly SourceKind[] = ['postgres', 'mysql', 'sqlserver', 'files'];
export const DEST_KINDS: readonly DestinationKind[] = ['delta', 'bigquery', 'duckdb', 'postgres'];

const SOURCE_LABEL: Record<SourceKind, string> = {
  postgres: 'PostgreSQL',
  mysql: 'MySQL/MariaDB',
  sqlserver: 'SQL Server',
  files: 'files (CSV, NDJSON, Parquet)',
};
const DEST_LABEL: Record<DestinationKind, string> = {
  delta: 'Delta Lake',
  bigquery: 'BigQuery',
  duckdb: 'DuckDB',
  postgres: 'PostgreSQL',
};

export function parseSourceKind(text: string | undefined): SourceKind {
  if (text === undefined) return 'postgres';
  const found = SOURCE_KINDS.find((k) => k === text);
  if (!found) throw new EtlError('USAGE', `--source expects ${SOURCE_KINDS.join(' | ')}, got "${text}"`);
  return found;
}

export function parseDestKind(text: string | undefined): DestinationKind {
  if (text === undefined) return 'duckdb';
  const found = DEST_KINDS.find((k) => k === text);
  if (!found) throw new EtlError('USAGE', `--dest expects ${DEST_KINDS.join(' | ')}, got "${text}"`);
  return found;
}

/**
 * `--tables` as given (repeated, comma-separated or both) → the patterns of `source.tables`, each
 * checked as the pipeline file would be; undefined when the option was not given.
 */
export function parseTablesOption(
  raw: string | boolean | readonly string[] | undefined,
  source: SourceKind,
): string[] | undefined {
  if (raw === undefined || typeof raw === 'boolean') return undefined;
  const given = typeof raw === 'string' ? [raw] : raw;
  const patterns = given.flatMap((text) => text.split(',')).map((text) => text.trim());
  if (source === 'files')
    throw new EtlError('USAGE', '--tables lists tables of a database source; a files source reads files');
  if (patterns.length === 0 || patterns.some((p) => p === ''))
    throw new EtlError('USAGE', '--tables expects table names or patterns, e.g. --tables "public.*"');
  for (const text of patterns) {
    const parsed = parseTablePattern(text, source);
    if (!parsed.ok) throw new EtlError('USAGE', `--tables "${text}": ${parsed.reason}`);
  }
  return patterns;
}

/**
 * A commented pipeline file that validates as written; only the connection values (hosts,
 * databases, users, the password variable) are placeholders for the operator to fill in. With
 * `tables` (patterns of source.tables) it is a multi-table pipeline whose destination names each
 * table by a template.
 */
export function generatePipeline(
  name: string,
  source: SourceKind,
  dest: DestinationKind,
  tables?: readonly string[],
): string {
  if (!PIPELINE_NAME_RE.test(name)) {
    throw new EtlError('USAGE', `pipeline names use lowercase letters, digits, _ and - only, got "${name}"`);
  }
  if (tables !== undefined && source === 'files')
    throw new EtlError('USAGE', '--tables lists tables of a database source; a files source reads files');
  const ident = name.replace(/-/g, '_');
  const envPrefix = ident.toUpperCase().replace(/^(\d)/, '_$1');
  const multi = tables === undefined || source === 'files' ? null : { source, patterns: tables };
  return [
    `# Pipeline "${name}": ${SOURCE_LABEL[source]} into ${DEST_LABEL[dest]}, written by etlctl generate.`,
    `# Fill in the connection values, check the file with \`etlctl validate ${name}.yaml\`,`,
    '# copy it into the pipelines directory and run `etlctl reload`.',
    `name: ${name}`,
    `description: ${ident} from ${SOURCE_LABEL[source]} into ${DEST_LABEL[dest]}`,
    '',
    '# When it runs: a 5/6-field cron, @hourly/@daily/@weekly/@monthly, "every 15m" or',
    `# "at 2026-12-01T02:00". Without a schedule it runs only on \`etlctl start ${name}\`.`,
    'schedule: "0 */2 * * *"',
    "# timezone: Europe/Warsaw           # default: the host's timezone",
    '',
    ...(source === 'files'
      ? filesSourceLines(ident)
      : multi === null
        ? databaseSourceLines(source, ident, envPrefix)
        : multiTableSourceLines(multi.source, multi.patterns, envPrefix)),
    '',
    '# transform:                        # optional; columns not listed pass through unchanged',
    '#   - { target: first_name, split: { column: customer_name, delimiter: " ", index: 0 } }',
    '#   - { target: address, join: { columns: [street, city], separator: ", " } }',
    '#   - { target: total, from: amount, type: "decimal(18,2)" }',
    '',
    'destination:',
    `  type: ${dest}`,
    ...(multi === null
      ? destinationLines(dest, ident, envPrefix)
      : templateDestinationLines(dest, ident, envPrefix, (separator) =>
          destinationTemplate(multi.source, multi.patterns, separator),
        )),
    '',
    'schema_evolution: add_columns       # add_columns: new source columns are added; strict: any change fails',
    '',
    'error_handling:                     # a failed run is retried, then an alert is sent',
    '  max_retries: 3',
    '  retry_delay: 5s',
    '  max_retry_delay: 15m',
    '  exponential_backoff: true',
    '  retry_timeout: 1h',
    '',
    '# alerts: { email: [data-oncall@example.com] }',
    '',
  ].join('\n');
}

function databaseSourceLines(
  source: Exclude<SourceKind, 'files'>,
  ident: string,
  envPrefix: string,
): string[] {
  return [
    'source:',
    `  type: ${source}`,
    '  # Secrets never go in this file: the password comes from an environment variable',
    '  # (password_env) or a file such as a systemd credential (password_file).',
    `  connection: ${sourceConnection(source, envPrefix)}`,
    '  # or name a connection written once in connections.yaml beside the pipelines directory:',
    '  # connection: shop_db',
    ...(source === 'sqlserver'
      ? [
          '  # add instance: NAME for a named instance; trust_server_certificate: true for a self-signed certificate',
        ]
      : []),
    '  # The same table on several databases, read in parallel (fields override `connection`):',
    '  # shards:',
    '  #   - { name: s1, host: db1.example.com }',
    '  #   - { name: s2, host: db2.example.com }',
    `  table: ${sourceTable(source, ident)}${' '.repeat(Math.max(1, 24 - sourceTable(source, ident).length))}# or query: SELECT ... (read-only)`,
    '  # columns: [id, customer_name, amount, updated_at]   # default: every column',
    '  key: [id]                         # primary key: merge loads and key-range chunks',
    '  # chunk_rows: 1000000             # split a large table into key ranges read in parallel',
    '  # parallelism: 4                  # at most this many shard/chunk readers at once',
    '',
    'load:',
    '  mode: incremental                 # full | incremental | merge',
    '  cursor: updated_at                # a column that only grows (timestamp or id)',
    '  start_from: "2024-01-01"          # the first run reads rows from here on',
    '  # lag: 5m                         # re-read this window for rows committed late',
  ];
}

function filesSourceLines(ident: string): string[] {
  return [
    'source:',
    '  type: files',
    '  # A directory (absolute path or file://) or an object-store prefix: s3://, gs://, az://, abfss://.',
    `  url: s3://landing-bucket/${ident}/`,
    '  pattern: "**/*.csv.gz"            # a glob under url; default **/*',
    '  # format: csv                     # csv | ndjson | parquet; default: from each file name',
    '  # csv: { delimiter: ",", header: true, encoding: utf-8, null_string: "" }',
    "  # storage:                        # credentials and endpoint; default: the cloud's standard chain",
    '  #   region: eu-central-1',
    `  #   access_key_id_env: ${ident.toUpperCase()}_S3_KEY_ID`,
    `  #   secret_access_key_env: ${ident.toUpperCase()}_S3_SECRET`,
    '  # columns: { id: bigint, amount: "decimal(12,2)", note: text }   # default: inferred from the files',
    '  # key: [id]                       # merge loads upsert by it',
    '  on_changed_file: fail             # a loaded file that changes: fail | ignore | reload',
    '  on_bad_file: fail                 # a corrupt or incompatible file: fail | skip (quarantined, alerted)',
    '  # min_age: 10s                    # leave files younger than this for the next run',
    '  # max_files_per_run: 10000',
    '  # parallelism: 4                  # files read at once',
    '',
    'load:',
    '  mode: incremental                 # incremental: each new file once | full: the files replace the table | merge: upsert by key',
  ];
}

function sourceConnection(source: Exclude<SourceKind, 'files'>, envPrefix: string): string {
  const port = { postgres: 5432, mysql: 3306, sqlserver: 1433 }[source];
  return `{ host: db.example.com, port: ${port}, database: shop, user: etl, password_env: ${envPrefix}_SOURCE_PASSWORD }`;
}

function sourceTable(source: Exclude<SourceKind, 'files'>, ident: string): string {
  switch (source) {
    case 'postgres':
      return `public.${ident}`;
    case 'mysql':
      return ident;
    case 'sqlserver':
      return `dbo.${ident}`;
  }
}

function destinationLines(dest: DestinationKind, ident: string, envPrefix: string): string[] {
  switch (dest) {
    case 'delta':
      return [
        `  path: ${ident}                    # a directory or file:// URL; relative paths go under the lake directory`,
      ];
    case 'duckdb':
      return [
        '  path: warehouse.duckdb            # relative paths go under the lake directory',
        `  table: ${ident}`,
      ];
    case 'postgres':
      return [
        `  connection: { host: warehouse.example.com, port: 5432, database: warehouse, user: etl, password_env: ${envPrefix}_DEST_PASSWORD }`,
        `  table: public.${ident}`,
      ];
    case 'bigquery':
      return [
        '  project: my-gcp-project',
        '  dataset: analytics',
        `  table: ${ident}`,
        '  location: EU',
        '  # key_file: /etc/etld/bigquery-key.json   # default: application default credentials',
      ];
  }
}

/**
 * The source and load sections of a multi-table pipeline. Keys are left to each table's primary
 * key, and the cursor applies to every table: the comments say how one table is set apart.
 */
function multiTableSourceLines(
  source: Exclude<SourceKind, 'files'>,
  patterns: readonly string[],
  envPrefix: string,
): string[] {
  // JSON strings are YAML double-quoted scalars: quoted identifiers and `*` stay as written.
  const list = patterns.map((p) => JSON.stringify(p)).join(', ');
  return [
    'source:',
    `  type: ${source}`,
    '  # Secrets never go in this file: the password comes from an environment variable',
    '  # (password_env) or a file such as a systemd credential (password_file).',
    `  connection: ${sourceConnection(source, envPrefix)}`,
    '  # or name a connection written once in connections.yaml beside the pipelines directory:',
    '  # connection: shop_db',
    '  # Several tables, each loaded as a run of its own: names and patterns with * and ?, matched',
    '  # when a run starts (a table created later is picked up by the next run).',
    `  tables: [${list}]`,
    aligned(
      `  # exclude: [${JSON.stringify(excludeExample(patterns))}]`,
      'matched by tables, but left alone',
    ),
    aligned('  # key: [id]', "default: each table's primary key"),
    aligned('  # chunk_rows: 1000000', 'split a large table into key ranges read in parallel'),
    '',
    'load:',
    '  mode: incremental                 # full | incremental | merge',
    '  cursor: updated_at                # every table needs this column, or its own setting below',
    '  start_from: "2024-01-01"          # the first run of each table reads rows from here on',
    '',
    '# Per-table settings, by the name as source.tables writes it (key, cursor, mode, columns,',
    '# chunk_rows, transform); a table without the cursor column is refused until it has one that fits.',
    '# tables:',
    `#   ${JSON.stringify(perTableExample(patterns))}: { mode: full }`,
    aligned('on_table_error: continue', 'a table that fails: continue (the others commit) | fail_run'),
    aligned('table_parallelism: 2', 'at most this many tables load at once'),
  ];
}

/** `code` with its comment in the column the rest of the file uses. */
function aligned(code: string, comment: string): string {
  return `${code.padEnd(35)} # ${comment}`;
}

/** A table name beside the first pattern, for the commented examples. */
function exampleTable(patterns: readonly string[], table: string): string {
  const first = patterns[0] ?? '';
  const dot = first.lastIndexOf('.');
  return dot === -1 ? table : `${first.slice(0, dot)}.${table}`;
}

function excludeExample(patterns: readonly string[]): string {
  return exampleTable(patterns, 'tmp_*');
}

function perTableExample(patterns: readonly string[]): string {
  return exampleTable(patterns, 'countries');
}

/**
 * How each table is named in the destination: `{schema}_{table}` when every pattern names its
 * schema (so two schemas' tables of one name stay apart), else `{table}`.
 */
function destinationTemplate(
  source: Exclude<SourceKind, 'files'>,
  patterns: readonly string[],
  separator: '_' | '/',
): string {
  const qualified = patterns.every((text) => {
    const parsed = parseTablePattern(text, source);
    return parsed.ok && parsed.pattern.schema !== null;
  });
  return qualified ? `{schema}${separator}{table}` : '{table}';
}

function templateDestinationLines(
  dest: DestinationKind,
  ident: string,
  envPrefix: string,
  templateWith: (separator: '_' | '/') => string,
): string[] {
  const template = templateWith('_');
  const comment = 'a table per source table: {schema}, {table} (and {shard}) are filled in';
  switch (dest) {
    case 'delta':
      return [
        aligned(
          `  path: "${ident}/${templateWith('/')}"`,
          'a Delta table per source table, under the lake directory',
        ),
      ];
    case 'duckdb':
      return [
        '  path: warehouse.duckdb            # relative paths go under the lake directory',
        aligned(`  table: "${template}"`, comment),
      ];
    case 'postgres':
      return [
        `  connection: { host: warehouse.example.com, port: 5432, database: warehouse, user: etl, password_env: ${envPrefix}_DEST_PASSWORD }`,
        aligned(`  table: "${template}"`, comment),
      ];
    case 'bigquery':
      return [
        '  project: my-gcp-project',
        '  dataset: analytics',
        aligned(`  table: "${template}"`, comment),
        '  location: EU',
        '  # key_file: /etc/etld/bigquery-key.json   # default: application default credentials',
      ];
  }
}
