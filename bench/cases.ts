/** The benchmark cases: baselines, etld pipelines and peers, each a command to run under GNU time. */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { BENCH_COLUMNS } from './dataset.js';
import { duckdbCli, slingBinary, venvPython, writeDltScript } from './peers.js';

export interface BenchCase {
  readonly case: string;
  readonly tool: string;
  readonly command: string;
  readonly args: readonly string[];
  readonly env: Record<string, string>;
  /** The etld case a peer is compared with (same source and target kind). */
  readonly comparesWith?: string;
}

export interface CaseContext {
  readonly rows: number;
  readonly pg: { host: string; port: number; user: string; database: string };
  readonly mysql: { host: string; port: number; user: string; database: string };
  readonly workDir: string;
  readonly etldMain: string;
  readonly nodePath: string;
  readonly venv: string | null;
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

export function buildCases(ctx: CaseContext): BenchCase[] {
  const select = `SELECT ${BENCH_COLUMNS} FROM bench`;
  const home = join(ctx.workDir, 'etld-home');
  const pipelines = join(home, 'pipelines');
  const pipelineFiles: [string, string][] = [
    [
      'pg_duckdb',
      pipelineYaml('pg_duckdb', 'postgres', ctx, '{ type: duckdb, path: bench.duckdb, table: bench }'),
    ],
    ['pg_delta', pipelineYaml('pg_delta', 'postgres', ctx, '{ type: delta, path: pg_delta }')],
    [
      'pg_delta_p2',
      pipelineYaml('pg_delta_p2', 'postgres', ctx, '{ type: delta, path: pg_delta_p2 }', {
        rows: Math.ceil(ctx.rows / 2),
        parallelism: 2,
      }),
    ],
    [
      'pg_delta_p4',
      pipelineYaml('pg_delta_p4', 'postgres', ctx, '{ type: delta, path: pg_delta_p4 }', {
        rows: Math.ceil(ctx.rows / 4),
        parallelism: 4,
      }),
    ],
    ['my_delta', pipelineYaml('my_delta', 'mysql', ctx, '{ type: delta, path: my_delta }')],
  ];
  for (const [name, yaml] of pipelineFiles) writeFileSync(join(pipelines, `${name}.yaml`), yaml);
  const etld = (name: string, label: string): BenchCase => ({
    case: label,
    tool: 'etld',
    command: ctx.nodePath,
    args: [ctx.etldMain, '--home', home, '--once', name, '--log-level', 'warning'],
    env: {},
  });

  const cases: BenchCase[] = [
    {
      case: 'postgres baseline',
      tool: 'psql \\copy',
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
      command: 'sh',
      args: [
        '-c',
        `mysql --quick -h ${ctx.mysql.host} -P ${ctx.mysql.port} -u ${ctx.mysql.user} ${ctx.mysql.database} -e "${select}" > /dev/null`,
      ],
      env: {},
    },
    etld('pg_duckdb', 'postgres → duckdb'),
    etld('pg_delta', 'postgres → delta'),
    etld('pg_delta_p2', 'postgres → delta chunked p2'),
    etld('pg_delta_p4', 'postgres → delta chunked p4'),
    etld('my_delta', 'mysql → delta'),
  ];

  if (ctx.venv !== null) {
    const sling = slingBinary(ctx.venv);
    const pgUrl = `postgresql://${ctx.pg.user}@${ctx.pg.host}:${ctx.pg.port}/${ctx.pg.database}?sslmode=disable`;
    const myUrl = `mysql://${ctx.mysql.user}@${ctx.mysql.host}:${ctx.mysql.port}/${ctx.mysql.database}`;
    const duckdb = duckdbCli(ctx.venv);
    const slingEnv = {
      SLING_DISABLE_TELEMETRY: 'true',
      ...(duckdb !== undefined ? { DUCKDB_PATH: duckdb } : {}),
    };
    if (sling !== undefined) {
      cases.push(
        {
          // Sling writes Parquet through the DuckDB CLI, which needs its json extension from the
          // network (not reachable here); CSV is Sling's native file writer, an easier job than Delta.
          case: 'postgres → csv',
          tool: 'sling',
          command: sling,
          args: [
            'run',
            '--src-conn',
            'BENCH_PG',
            '--src-stream',
            'public.bench',
            '--tgt-object',
            `file://${ctx.workDir}/sling/pg.csv`,
            '--mode',
            'full-refresh',
          ],
          env: { BENCH_PG: pgUrl, ...slingEnv },
          comparesWith: 'postgres → delta',
        },
        {
          case: 'mysql → csv',
          tool: 'sling',
          command: sling,
          args: [
            'run',
            '--src-conn',
            'BENCH_MY',
            '--src-stream',
            'bench.bench',
            '--tgt-object',
            `file://${ctx.workDir}/sling/my.csv`,
            '--mode',
            'full-refresh',
          ],
          env: { BENCH_MY: myUrl, ...slingEnv },
          comparesWith: 'mysql → delta',
        },
      );
    }
    const script = writeDltScript(ctx.workDir);
    const python = venvPython(ctx.venv);
    const dltCase = (label: string, url: string, backend: string, comparesWith: string): BenchCase => ({
      case: label,
      tool: `dlt (${backend})`,
      command: python,
      args: [script, url, backend, join(ctx.workDir, 'dlt', backend), join(ctx.workDir, 'dlt-pipelines')],
      env: { RUNTIME__LOG_LEVEL: 'WARNING' },
      comparesWith,
    });
    cases.push(
      dltCase(
        'postgres → delta',
        `postgresql+psycopg://${ctx.pg.user}@${ctx.pg.host}:${ctx.pg.port}/${ctx.pg.database}`,
        'pyarrow',
        'postgres → delta',
      ),
      dltCase(
        'postgres → delta',
        `postgresql+psycopg://${ctx.pg.user}@${ctx.pg.host}:${ctx.pg.port}/${ctx.pg.database}`,
        'connectorx',
        'postgres → delta',
      ),
      dltCase(
        'mysql → delta',
        `mysql+pymysql://${ctx.mysql.user}@${ctx.mysql.host}:${ctx.mysql.port}/${ctx.mysql.database}`,
        'pyarrow',
        'mysql → delta',
      ),
    );
  }
  return cases;
}
