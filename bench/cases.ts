/** The benchmark cases: baselines and etld pipelines, each a command to run under GNU time. */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { BENCH_CHECKS_YAML, CHECKED_PIPELINES, CHECKED_SUFFIX } from './checks.js';
import { BENCH_COLUMNS } from './dataset.js';

export interface Connection {
  readonly host: string;
  readonly port: number;
  readonly user: string;
  readonly database: string;
}

export interface BenchCase {
  /** Source → target, e.g. `postgres → delta`; the baseline is picked by the source word. */
  readonly case: string;
  readonly tool: string;
  readonly kind: 'baseline' | 'etld' | 'peer';
  readonly command: string;
  readonly args: readonly string[];
  readonly env: Record<string, string>;
  /** The etld case a peer is compared with (same source and target kind). */
  readonly comparesWith?: string;
  /** What a run writes: its rows are counted after every run, so a run that writes nothing fails. */
  readonly output?: { readonly path: string; readonly removeBeforeRun: boolean };
  /** etld: the pipeline whose newest run record holds rows_loaded and stages_json. */
  readonly pipeline?: string;
  /** etld with checks: the same pipeline's case without them (the checks' cost is the difference). */
  readonly uncheckedCase?: string;
  /** Measured instead when this case fails or writes a wrong row count on its first run. */
  readonly fallback?: BenchCase;
}

export interface CaseContext {
  readonly rows: number;
  readonly pg: Connection;
  readonly mysql: Connection;
  readonly workDir: string;
  /** etld's --home for the measured runs (pipelines/ is written here). */
  readonly etldHome: string;
  readonly etldMain: string;
  readonly nodePath: string;
}

/** One etld pipeline of the bench (its file is written into the etld home). */
export interface EtldSpec {
  /** The pipeline's name, and the Delta table's directory under the lake. */
  readonly name: string;
  readonly label: string;
  readonly source: 'postgres' | 'mysql';
  readonly destination: 'delta' | 'duckdb';
  readonly chunk?: { readonly rows: number; readonly parallelism: number };
  /** A `checks:` block (checks.ts). */
  readonly checks?: string;
  /** The case without the checks, whose wall time this one's is compared with. */
  readonly uncheckedCase?: string;
}

/** The pipeline file of `spec`, reading from `conn` (the server of `spec.source`). */
export function pipelineYaml(spec: EtldSpec, conn: Connection): string {
  const table = spec.source === 'postgres' ? 'public.bench' : 'bench';
  const dest =
    spec.destination === 'delta'
      ? `{ type: delta, path: ${spec.name} }`
      : `{ type: duckdb, path: ${spec.name}.duckdb, table: bench }`;
  const chunk = spec.chunk;
  return `name: ${spec.name}
source:
  type: ${spec.source}
  connection: { host: ${conn.host}, port: ${conn.port}, database: ${conn.database}, user: ${conn.user} }
  table: ${table}
  key: [id]
${chunk ? `  chunk_rows: ${chunk.rows}\n  parallelism: ${chunk.parallelism}\n` : ''}load: { mode: full }
destination: ${dest}
${spec.checks ?? ''}`;
}

export function baselineCases(ctx: CaseContext): BenchCase[] {
  const select = `SELECT ${BENCH_COLUMNS} FROM bench`;
  return [
    {
      case: 'postgres baseline',
      tool: 'psql \\copy',
      kind: 'baseline',
      command: 'psql',
      args: [
        '-h',
        ctx.pg.host,
        '-p',
        String(ctx.pg.port),
        '-U',
        ctx.pg.user,
        '-d',
        ctx.pg.database,
        '-c',
        `\\copy (${select}) to '/dev/null'`,
      ],
      env: {},
    },
    {
      case: 'mysql baseline',
      tool: 'mysql --quick',
      kind: 'baseline',
      command: 'sh',
      args: [
        '-c',
        `mysql --quick -h ${ctx.mysql.host} -P ${ctx.mysql.port} -u ${ctx.mysql.user} ${ctx.mysql.database} -e "${select}" > /dev/null`,
      ],
      env: {},
    },
  ];
}

/**
 * The node flags of etld's launcher line (`#!/usr/bin/env -S node --flag`): the bench starts etld
 * with the Node it runs on, and with the flags the `etld` command and the systemd unit use.
 */
export function launcherFlags(main: string): string[] {
  const firstLine = readFileSync(main, 'utf8').split('\n', 1)[0] ?? '';
  const flags = /^#!.*\bnode((?:\s+--\S+)*)\s*$/.exec(firstLine)?.[1] ?? '';
  return flags.split(/\s+/).filter((flag) => flag.length > 0);
}

/**
 * The same pipeline judging `BENCH_CHECKS_YAML` before its load, as a case of its own: its own
 * pipeline and destination, so the plain case's state and output stay as they were.
 */
function withChecks(spec: EtldSpec): EtldSpec {
  return {
    ...spec,
    name: `${spec.name}_checked`,
    label: `${spec.label}${CHECKED_SUFFIX}`,
    checks: BENCH_CHECKS_YAML,
    uncheckedCase: spec.label,
  };
}

/** postgres → delta with the table split into `parallelism` chunks, all read at once. */
export function chunkedPgDelta(rows: number, parallelism: number): EtldSpec {
  return {
    name: `pg_delta_p${parallelism}`,
    label: `postgres → delta chunked p${parallelism}`,
    source: 'postgres',
    destination: 'delta',
    chunk: { rows: Math.ceil(rows / parallelism), parallelism },
  };
}

function etldCase(spec: EtldSpec, ctx: CaseContext): BenchCase {
  const conn = spec.source === 'postgres' ? ctx.pg : ctx.mysql;
  writeFileSync(join(ctx.etldHome, 'pipelines', `${spec.name}.yaml`), pipelineYaml(spec, conn));
  return {
    case: spec.label,
    tool: 'etld',
    kind: 'etld',
    command: ctx.nodePath,
    args: [
      ...launcherFlags(ctx.etldMain),
      ctx.etldMain,
      '--home',
      ctx.etldHome,
      '--once',
      spec.name,
      '--log-level',
      'warning',
    ],
    env: {},
    pipeline: spec.name,
    // etld's own table: replaced by each full load, never removed behind its state store's back.
    ...(spec.destination === 'delta'
      ? { output: { path: join(ctx.etldHome, 'lake', spec.name), removeBeforeRun: false } }
      : {}),
    ...(spec.uncheckedCase !== undefined ? { uncheckedCase: spec.uncheckedCase } : {}),
  };
}

/**
 * Writes the pipeline files into the etld home and returns the etld cases; with `checks`, each of
 * `CHECKED_PIPELINES` is followed by its checked twin, so the two run back to back and share the
 * machine's state as closely as a sequential bench allows.
 */
export function etldCases(ctx: CaseContext, options: { readonly checks: boolean }): BenchCase[] {
  const specs: EtldSpec[] = [
    { name: 'pg_duckdb', label: 'postgres → duckdb', source: 'postgres', destination: 'duckdb' },
    { name: 'pg_delta', label: 'postgres → delta', source: 'postgres', destination: 'delta' },
    chunkedPgDelta(ctx.rows, 2),
    chunkedPgDelta(ctx.rows, 4),
    { name: 'my_delta', label: 'mysql → delta', source: 'mysql', destination: 'delta' },
  ];
  return specs
    .flatMap((spec) =>
      options.checks && CHECKED_PIPELINES.has(spec.name) ? [spec, withChecks(spec)] : [spec],
    )
    .map((spec) => etldCase(spec, ctx));
}

/**
 * The cases `--only` selects: every baseline, and each case whose name or tool contains `only`. A
 * checked case and its unchecked twin are selected together, since the checks' cost is the
 * difference between the two.
 */
export function selectCases(cases: readonly BenchCase[], only: string | undefined): BenchCase[] {
  const matches = (c: BenchCase): boolean => only === undefined || `${c.case} ${c.tool}`.includes(only);
  const twins = (a: BenchCase, b: BenchCase): boolean =>
    a.kind === 'etld' && b.kind === 'etld' && (a.uncheckedCase === b.case || b.uncheckedCase === a.case);
  return cases.filter(
    (c) => c.kind === 'baseline' || matches(c) || cases.some((other) => twins(c, other) && matches(other)),
  );
}
