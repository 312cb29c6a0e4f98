/** The benchmark cases: baselines and etld pipelines, each a command to run under GNU time. */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
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

function pipelineYaml(
  name: string,
  source: 'postgres' | 'mysql',
  ctx: CaseContext,
  dest: string,
  chunk?: { rows: number; parallelism: number },
): string {
  const conn = source === 'postgres' ? ctx.pg : ctx.mysql;
  const table = source === 'postgres' ? 'public.bench' : 'bench';
  return `name: ${name}
source:
  type: ${source}
  connection: { host: ${conn.host}, port: ${conn.port}, database: ${conn.database}, user: ${conn.user} }
  table: ${table}
  key: [id]
${chunk ? `  chunk_rows: ${chunk.rows}\n  parallelism: ${chunk.parallelism}\n` : ''}load: { mode: full }
destination: ${dest}
`;
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

/** Writes the pipeline files into the etld home and returns the etld cases. */
export function etldCases(ctx: CaseContext): BenchCase[] {
  const lake = join(ctx.etldHome, 'lake');
  const half = Math.ceil(ctx.rows / 2);
  const quarter = Math.ceil(ctx.rows / 4);
  const specs: { name: string; label: string; yaml: string; delta: boolean }[] = [
    {
      name: 'pg_duckdb',
      label: 'postgres → duckdb',
      yaml: pipelineYaml('pg_duckdb', 'postgres', ctx, '{ type: duckdb, path: bench.duckdb, table: bench }'),
      delta: false,
    },
    {
      name: 'pg_delta',
      label: 'postgres → delta',
      yaml: pipelineYaml('pg_delta', 'postgres', ctx, '{ type: delta, path: pg_delta }'),
      delta: true,
    },
    {
      name: 'pg_delta_p2',
      label: 'postgres → delta chunked p2',
      yaml: pipelineYaml('pg_delta_p2', 'postgres', ctx, '{ type: delta, path: pg_delta_p2 }', {
        rows: half,
        parallelism: 2,
      }),
      delta: true,
    },
    {
      name: 'pg_delta_p4',
      label: 'postgres → delta chunked p4',
      yaml: pipelineYaml('pg_delta_p4', 'postgres', ctx, '{ type: delta, path: pg_delta_p4 }', {
        rows: quarter,
        parallelism: 4,
      }),
      delta: true,
    },
    {
      name: 'my_delta',
      label: 'mysql → delta',
      yaml: pipelineYaml('my_delta', 'mysql', ctx, '{ type: delta, path: my_delta }'),
      delta: true,
    },
  ];
  return specs.map((spec) => {
    writeFileSync(join(ctx.etldHome, 'pipelines', `${spec.name}.yaml`), spec.yaml);
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
      ...(spec.delta ? { output: { path: join(lake, spec.name), removeBeforeRun: false } } : {}),
    };
  });
}
