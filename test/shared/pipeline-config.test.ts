import { describe, expect, test } from 'vitest';
import { pipelineSchema } from '../../shared/config/pipeline-schema.js';
import { daemonSettingsSchema } from '../../shared/config/daemon-schema.js';
import { formatProblem, parseYamlWithSchema } from '../../shared/config/yaml-document.js';
import { parseSchedule } from '../../shared/config/schedule.js';
import { parseDuration, parseSize } from '../../shared/config/duration.js';

const VALID = `name: orders
description: Orders from the shop
schedule: "0 */2 * * *"
timezone: Europe/Warsaw
source:
  type: postgres
  connection: { host: db1, port: 5432, database: shop, user: etl, password_env: SHOP_DB_PASSWORD }
  shards:
    - { name: s1, host: db1 }
    - { name: s2, host: db2, port: 5433 }
  table: public.orders
  columns: [id, customer_name, street, city, amount, updated_at]
  key: [id]
  chunk_rows: 1000000
  parallelism: 4
load:
  mode: incremental
  cursor: updated_at
  start_from: "2023-01-01"
transform:
  - { target: first_name, split: { column: customer_name, delimiter: " ", index: 0 } }
  - { target: address, join: { columns: [street, city], separator: ", " } }
  - { target: total, from: amount, type: "decimal(18,2)" }
destination:
  type: delta
  path: orders
error_handling:
  max_retries: 3
  retry_delay: 5s
  max_retry_delay: 15m
  exponential_backoff: true
  retry_timeout: 1h
connection_retry: { attempts: 3, delay: 1s }
alerts: { email: [data-oncall@example.com] }
`;

function problems(text: string, file = 'orders.yaml'): string[] {
  const result = parseYamlWithSchema(file, text, pipelineSchema);
  return result.ok ? [] : result.problems.map(formatProblem);
}

/** Replaces the first line starting with `key:` (at any indentation) by `replacement`. */
function withLine(pattern: RegExp, replacement: string): string {
  const lines = VALID.split('\n');
  const index = lines.findIndex((l) => pattern.test(l));
  if (index < 0) throw new Error(`no line matches ${String(pattern)}`);
  lines[index] = replacement;
  return lines.join('\n');
}

describe('pipeline files', () => {
  test('the full example pipeline (with a quoted decimal type) is valid and parses durations to ms', () => {
    const result = parseYamlWithSchema('orders.yaml', VALID, pipelineSchema);
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    expect(result.value.error_handling).toEqual({
      max_retries: 3,
      retry_delay: 5_000,
      max_retry_delay: 900_000,
      exponential_backoff: true,
      retry_timeout: 3_600_000,
    });
    expect(result.value.connection_retry).toEqual({ attempts: 3, delay: 1_000 });
    expect(result.value.overlap).toBe('skip');
    expect(result.value.misfire).toBe('run_once');
    expect(result.value.schema_evolution).toBe('add_columns');
  });

  test('the message names file:line:col, the field path, what was expected and what was found', () => {
    expect(problems(withLine(/^ {2}type: postgres/, '  type: postgress'))).toEqual([
      'orders.yaml:6:9 source.type: expected one of postgres | mysql | sqlserver | files, got "postgress"',
    ]);
  });

  test('every problem of a file is reported at once, in file order', () => {
    const text = VALID.replace('timezone: Europe/Warsaw', 'timezone: Mars/Olympus')
      .replace('port: 5433', 'port: 70000')
      .replace('retry_delay: 5s', 'retry_delay: soon');
    expect(problems(text)).toEqual([
      'orders.yaml:4:11 timezone: expected an IANA timezone such as Europe/Warsaw, got "Mars/Olympus"',
      'orders.yaml:10:36 source.shards[1].port: expected at most 65535, got 70000',
      'orders.yaml:29:16 error_handling.retry_delay: expected a duration such as 5s, 15m or 1h, got "soon"',
    ]);
  });

  const badValues: [string, RegExp, string, RegExp][] = [
    ['name with capitals', /^name:/, 'name: Orders', /1:7 name: expected a name of lowercase letters/],
    ['reserved name', /^name:/, 'name: etld', /1:7 name: "etld" is reserved for the daemon's own logs/],
    ['missing name', /^name:/, 'nom: orders', /name: required field is missing|unknown field "nom"/],
    [
      'schedule garbage',
      /^schedule:/,
      'schedule: "every now and then"',
      /schedule: expected "every <duration>"/,
    ],
    [
      'schedule bad cron',
      /^schedule:/,
      'schedule: "99 * * * *"',
      /schedule: invalid cron expression "99 \* \* \* \*"/,
    ],
    [
      'schedule 4 fields',
      /^schedule:/,
      'schedule: "* * * *"',
      /schedule: expected a 5- or 6-field cron expression/,
    ],
    ['schedule bad at', /^schedule:/, 'schedule: "at tomorrow"', /schedule: expected "at YYYY-MM-DDTHH:MM"/],
    ['timezone', /^timezone:/, 'timezone: Nowhere', /timezone: expected an IANA timezone/],
    [
      'literal password',
      /^ {2}connection:/,
      '  connection: { host: db1, password: hunter2 }',
      /source.connection.password: secrets are never written in pipeline files: use password_env/,
    ],
    [
      'both secrets',
      /^ {2}connection:/,
      '  connection: { host: db1, password_env: A, password_file: /x }',
      /source.connection.password_file: give either password_env or password_file/,
    ],
    [
      'bad env name',
      /^ {2}connection:/,
      '  connection: { host: db1, password_env: "my var" }',
      /source.connection.password_env: .*environment variable name/,
    ],
    [
      'port text',
      /^ {2}connection:/,
      '  connection: { host: db1, port: "x" }',
      /source.connection.port: expected number, got "x"/,
    ],
    [
      'unknown connection field',
      /^ {2}connection:/,
      '  connection: { hots: db1 }',
      /source.connection: unknown field "hots"/,
    ],
    [
      'table and query',
      /^ {2}table:/,
      '  table: t\n  query: select 1',
      /source.table: give exactly one of table, tables or query/,
    ],
    [
      'write query',
      /^ {2}table:/,
      '  query: delete from t',
      /source.query: expected a read-only query starting with SELECT or WITH/,
    ],
    ['columns empty', /^ {2}columns:/, '  columns: []', /source.columns: expected at least 1 item/],
    ['chunk_rows negative', /^ {2}chunk_rows:/, '  chunk_rows: -5', /source.chunk_rows: expected at least/],
    [
      'parallelism zero',
      /^ {2}parallelism:/,
      '  parallelism: 0',
      /source.parallelism: expected at least 1, got 0/,
    ],
    [
      'parallelism huge',
      /^ {2}parallelism:/,
      '  parallelism: 1000',
      /source.parallelism: expected at most 64, got 1000/,
    ],
    [
      'mode',
      /^ {2}mode:/,
      '  mode: upsert',
      /load.mode: expected one of full \| incremental \| merge, got "upsert"/,
    ],
    [
      'transform two kinds',
      /target: first_name/,
      '  - { target: first_name, from: city, join: { columns: [street] } }',
      /transform\[0\].target: give exactly one of from, split or join/,
    ],
    [
      'transform bad type',
      /target: total/,
      '  - { target: total, from: amount, type: "money(3)" }',
      /transform\[2\].type: expected a type \(int16 .*got "money\(3\)"/,
    ],
    [
      'transform unquoted decimal',
      /target: total/,
      '  - { target: total, from: amount, type: decimal(18,2) }',
      /quote it, type: "decimal\(18,2\)"/,
    ],
    [
      'transform unknown column',
      /target: total/,
      '  - { target: total, from: amont }',
      /transform\[2\].from: unknown column "amont": not in source.columns/,
    ],
    [
      'transform reserved target',
      /target: total/,
      '  - { target: _etl_run_id, from: amount }',
      /transform\[2\].target: "_etl_run_id": names starting with _etl_ are reserved/,
    ],
    [
      'destination type',
      /^ {2}type: delta/,
      '  type: deltaa',
      /destination.type: expected a known type, got "deltaa"/,
    ],
    [
      'duckdb without table',
      /^ {2}type: delta/,
      '  type: duckdb',
      /destination.table: required field is missing/,
    ],
    [
      'bigquery dataset',
      /^ {2}type: delta/,
      '  type: bigquery\n  project: p\n  dataset: "bad-name"\n  table: t',
      /destination.(dataset|path)/,
    ],
    [
      'max_retries',
      /^ {2}max_retries:/,
      '  max_retries: -1',
      /error_handling.max_retries: expected at least 0, got -1/,
    ],
    [
      'max_retry_delay',
      /^ {2}max_retry_delay:/,
      '  max_retry_delay: 15 minutes',
      /error_handling.max_retry_delay: expected a duration/,
    ],
    [
      'exponential_backoff',
      /^ {2}exponential_backoff:/,
      '  exponential_backoff: maybe',
      /error_handling.exponential_backoff: expected boolean, got "maybe"/,
    ],
    [
      'retry_timeout',
      /^ {2}retry_timeout:/,
      '  retry_timeout: 3',
      /error_handling.retry_timeout: expected a duration such as 5s, 15m or 1h, got 3/,
    ],
    [
      'connection_retry',
      /^connection_retry:/,
      'connection_retry: { attempts: 0, delay: 1s }',
      /connection_retry.attempts: expected at least 1, got 0/,
    ],
    [
      'alert email',
      /^alerts:/,
      'alerts: { email: [not-an-address] }',
      /alerts.email\[0\]: expected .*, got "not-an-address"/,
    ],
    [
      'unknown top-level field',
      /^description:/,
      'descripton: typo',
      /1?:1 : unknown field "descripton"|unknown field "descripton"/,
    ],
    ['overlap', /^description:/, 'overlap: cancel', /overlap: expected one of skip \| queue, got "cancel"/],
    ['misfire', /^description:/, 'misfire: burst', /misfire: expected one of run_once \| skip, got "burst"/],
    ['stall_timeout', /^description:/, 'stall_timeout: forever', /stall_timeout: expected a duration/],
    [
      'schema_evolution',
      /^description:/,
      'schema_evolution: anything',
      /schema_evolution: expected one of add_columns \| strict/,
    ],
  ];
  test.each(badValues)('bad value: %s', (_label, pattern, replacement, expected) => {
    const found = problems(withLine(pattern, replacement));
    expect(found.length, `no problem reported; expected ${String(expected)}`).toBeGreaterThan(0);
    expect(found.join('\n')).toMatch(expected);
    for (const line of found) expect(line).toMatch(/^orders\.yaml:\d+:\d+ /);
  });

  test('cross-field rules: merge needs a key, incremental needs a cursor, chunk_rows needs a key, duplicate shards', () => {
    const noKey = VALID.replace('  key: [id]\n', '')
      .replace('  chunk_rows: 1000000\n', '')
      .replace('mode: incremental', 'mode: merge');
    expect(problems(noKey).join('\n')).toMatch(/source.key: merge loads need key/);
    const noCursor = VALID.replace('  cursor: updated_at\n', '');
    expect(problems(noCursor).join('\n')).toMatch(/load.cursor: incremental loads need a cursor column/);
    const chunkNoKey = VALID.replace('  key: [id]\n', '');
    expect(problems(chunkNoKey).join('\n')).toMatch(/source.chunk_rows: chunk_rows needs key/);
    const dupShards = VALID.replace('name: s2', 'name: s1');
    expect(problems(dupShards).join('\n')).toMatch(/source.shards\[1\].name: duplicate shard name "s1"/);
  });

  test('broken YAML is reported with its position, not a stack trace', () => {
    expect(problems('name: orders\nsource: {type: postgres\n')[0]).toMatch(
      /^orders\.yaml:\d+:\d+ invalid YAML: /,
    );
    expect(problems('name: a\nname: b\n')[0]).toMatch(
      /^orders\.yaml:2:1 invalid YAML: .*[Mm]ap keys must be unique/,
    );
  });
});

describe('daemon settings', () => {
  test('defaults when empty', () => {
    const settings = daemonSettingsSchema.parse({});
    expect(settings.defaults).toEqual({
      parallelism: 4,
      stall_timeout: 600_000,
      grace_period: 60_000,
      source_slots_per_host: 8,
      memory_limit: 96 * 1024 * 1024,
      threads: 1,
      bigquery_price_per_tib: 6.25,
    });
    expect(settings.logs.max_size).toBe(10 * 1024 * 1024);
    expect(settings.state).toEqual({ type: 'sqlite' });
  });
  test('bad values name file, line and field', () => {
    const text =
      'logs: { dir: /var/log/etl, max_size: 10 parsecs, keep: 0 }\ncontrol: { tcp: { listen: "localhost" } }\ndefaults: { grace_period: 1 minute }\n';
    const result = parseYamlWithSchema('etld.yaml', text, daemonSettingsSchema);
    expect(result.ok).toBe(false);
    const lines = result.ok ? [] : result.problems.map(formatProblem);
    expect(lines.join('\n')).toMatch(/etld\.yaml:1:\d+ logs.max_size: expected a size such as 10MB/);
    expect(lines.join('\n')).toMatch(/etld\.yaml:1:\d+ logs.keep: expected at least 1, got 0/);
    expect(lines.join('\n')).toMatch(/etld\.yaml:2:\d+ control.tcp.listen: .*host:port/);
    expect(lines.join('\n')).toMatch(/etld\.yaml:3:\d+ defaults.grace_period: expected a duration/);
  });
  test('the TCP listener needs an operator or a read-only token, never one written in the file', () => {
    const problems = (text: string): string => {
      const result = parseYamlWithSchema('etld.yaml', text, daemonSettingsSchema);
      return result.ok ? '' : result.problems.map(formatProblem).join('\n');
    };
    expect(problems('control: { tcp: { listen: "127.0.0.1:7070" } }\n')).toMatch(
      /etld\.yaml:1:\d+ control.tcp.token_file: the TCP listener needs a token: token_env or token_file \(operator\), readonly_token_env or readonly_token_file \(read-only\)/,
    );
    expect(problems('control: { tcp: { readonly_token: abc } }\n')).toMatch(
      /control.tcp.readonly_token: a token is never written in etld.yaml/,
    );
    expect(problems('control: { tcp: { readonly_token_env: RO, readonly_token_file: /ro } }\n')).toMatch(
      /control.tcp.readonly_token_file: give either readonly_token_env or readonly_token_file, not both/,
    );
    const ok = parseYamlWithSchema(
      'etld.yaml',
      'control: { readonly_socket: {}, tcp: { readonly_token_env: ETLD_RO_TOKEN } }\n',
      daemonSettingsSchema,
    );
    expect(ok.ok && ok.value.control).toMatchObject({
      readonly_socket: { mode: '0660' },
      tcp: { listen: '127.0.0.1:7070', readonly_token_env: 'ETLD_RO_TOKEN' },
    });
  });
});

describe('schedules, durations and sizes', () => {
  test.each([
    ['0 */2 * * *', 'cron'],
    ['*/10 * * * * *', 'cron'],
    ['@hourly', 'cron'],
    ['@daily', 'cron'],
    ['@weekly', 'cron'],
    ['@monthly', 'cron'],
    ['every 15m', 'every'],
    ['at 2026-12-01T02:00', 'at'],
    [undefined, 'manual'],
  ])('%s is a %s schedule', (text, kind) => {
    const parsed = parseSchedule(text);
    expect(parsed.ok && parsed.schedule.kind).toBe(kind);
  });
  test('every takes a real duration', () => {
    expect(parseSchedule('every 0s').ok).toBe(false);
    expect(parseSchedule('every 1h30m')).toEqual({
      ok: true,
      schedule: { kind: 'every', intervalMs: 5_400_000, text: 'every 1h30m' },
    });
  });
  test('durations and sizes', () => {
    expect(parseDuration('5s')).toBe(5000);
    expect(parseDuration('1h30m')).toBe(5_400_000);
    expect(parseDuration('250ms')).toBe(250);
    expect(parseDuration('5 s')).toBeUndefined();
    expect(parseDuration('')).toBeUndefined();
    expect(parseSize('10MB')).toBe(10 * 1024 * 1024);
    expect(parseSize('12')).toBe(12);
    expect(parseSize('ten')).toBeUndefined();
  });
});

describe('source.table quoting', () => {
  test('quoted names are valid; a malformed one names the field', () => {
    expect(problems(withLine(/^ {2}table:/, '  table: \'sales."Customer Accounts"\''))).toEqual([]);
    const found = problems(withLine(/^ {2}table:/, "  table: 'sales.\"unterminated'"));
    expect(found.join('\n')).toMatch(/source\.table.*unterminated quoted name/);
  });
});
