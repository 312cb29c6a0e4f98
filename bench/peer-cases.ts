/** The peer cases (Sling, dlt, polars), built from what the peers' virtualenv actually holds. */
import { join } from 'node:path';
import type { BenchCase, CaseContext } from './cases.js';
import type { PeerScripts } from './peer-scripts.js';
import { duckdbCli, prepareSlingHome, slingBinary, venvPython } from './peers.js';

export interface PeerSetup {
  readonly venv: string;
  readonly scripts: PeerScripts;
  /** Installed distribution versions (null: not installed). */
  readonly versions: Readonly<Record<string, string | null>>;
}

export interface PeerCases {
  readonly cases: BenchCase[];
  /** One line per peer (or peer mode) that does not run, with the reason. */
  readonly skipped: string[];
}

export function peerCases(ctx: CaseContext, setup: PeerSetup): PeerCases {
  const cases: BenchCase[] = [];
  const skipped: string[] = [];
  const has = (name: string): boolean => (setup.versions[name] ?? null) !== null;
  const python = venvPython(setup.venv);
  const out = (...parts: string[]): string => join(ctx.workDir, 'out', ...parts);

  const sling = slingBinary(setup.venv);
  if (sling === undefined) {
    skipped.push(`sling: sling-linux-amd64 not installed in ${setup.venv}`);
  } else {
    const home = prepareSlingHome(setup.venv, join(ctx.workDir, 'sling-home'));
    const duckdb = duckdbCli(setup.venv);
    if ('reason' in home) skipped.push(`sling → parquet: ${home.reason}; Sling writes CSV instead`);
    const slingCase = (
      source: 'postgres' | 'mysql',
      format: 'parquet' | 'csv',
      fallback?: BenchCase,
    ): BenchCase => {
      const pgUrl = `postgresql://${ctx.pg.user}@${ctx.pg.host}:${ctx.pg.port}/${ctx.pg.database}?sslmode=disable`;
      const myUrl = `mysql://${ctx.mysql.user}@${ctx.mysql.host}:${ctx.mysql.port}/${ctx.mysql.database}`;
      const path = out('sling', `${source}.${format}`);
      return {
        case: `${source} → ${format}`,
        tool: `sling (${format})`,
        kind: 'peer',
        command: sling,
        args: [
          'run',
          '--src-conn',
          'BENCH_SRC',
          '--src-stream',
          source === 'postgres' ? 'public.bench' : `${ctx.mysql.database}.bench`,
          '--tgt-object',
          `file://${path}`,
          '--mode',
          'full-refresh',
        ],
        env: {
          BENCH_SRC: source === 'postgres' ? pgUrl : myUrl,
          SLING_DISABLE_TELEMETRY: 'true',
          // Sling keeps its own state under HOME; the DuckDB CLI finds its extensions there.
          ...('home' in home ? { HOME: home.home } : {}),
          ...(duckdb !== undefined ? { DUCKDB_PATH: duckdb } : {}),
        },
        comparesWith: `${source} → delta`,
        output: { path, removeBeforeRun: true },
        ...(fallback !== undefined ? { fallback } : {}),
      };
    };
    for (const source of ['postgres', 'mysql'] as const) {
      cases.push(
        'home' in home ? slingCase(source, 'parquet', slingCase(source, 'csv')) : slingCase(source, 'csv'),
      );
    }
  }

  const pgSqlAlchemy = `postgresql+psycopg://${ctx.pg.user}@${ctx.pg.host}:${ctx.pg.port}/${ctx.pg.database}`;
  const mySqlAlchemy = `mysql+pymysql://${ctx.mysql.user}@${ctx.mysql.host}:${ctx.mysql.port}/${ctx.mysql.database}`;
  if (!has('dlt')) {
    skipped.push(`dlt: not installed in ${setup.venv}`);
  } else {
    const dltCase = (source: 'postgres' | 'mysql', backend: 'pyarrow' | 'connectorx'): BenchCase => {
      const dir = out('dlt', `${source}-${backend}`);
      return {
        case: `${source} → delta`,
        tool: `dlt (${backend})`,
        kind: 'peer',
        command: python,
        args: [
          setup.scripts.dlt,
          source === 'postgres' ? pgSqlAlchemy : mySqlAlchemy,
          backend,
          dir,
          out('dlt', 'pipelines'),
        ],
        env: { RUNTIME__LOG_LEVEL: 'WARNING' },
        comparesWith: `${source} → delta`,
        // The filesystem destination writes <bucket>/<dataset>/<table>.
        output: { path: join(dir, 'bench', 'bench'), removeBeforeRun: true },
      };
    };
    cases.push(
      dltCase('postgres', 'pyarrow'),
      dltCase('postgres', 'connectorx'),
      dltCase('mysql', 'pyarrow'),
    );
  }

  const missingPolars = ['polars', 'connectorx', 'deltalake', 'pyarrow'].filter((name) => !has(name));
  if (missingPolars.length > 0) {
    skipped.push(`polars + connectorx: ${missingPolars.join(', ')} not installed in ${setup.venv}`);
  } else {
    const polarsCase = (
      source: 'postgres' | 'mysql',
      partitions: number,
      comparesWith: string,
    ): BenchCase => {
      const conn = source === 'postgres' ? ctx.pg : ctx.mysql;
      const scheme = source === 'postgres' ? 'postgresql' : 'mysql';
      const path = out('polars', `${source}-p${partitions}`);
      return {
        case: partitions > 1 ? `${source} → delta p${partitions}` : `${source} → delta`,
        tool: 'polars + connectorx',
        kind: 'peer',
        command: python,
        args: [
          setup.scripts.polars,
          `${scheme}://${conn.user}@${conn.host}:${conn.port}/${conn.database}`,
          path,
          String(partitions),
        ],
        env: {},
        comparesWith,
        output: { path, removeBeforeRun: true },
      };
    };
    cases.push(
      polarsCase('postgres', 1, 'postgres → delta'),
      polarsCase('postgres', 2, 'postgres → delta chunked p2'),
      polarsCase('mysql', 1, 'mysql → delta'),
    );
  }
  return { cases, skipped };
}
