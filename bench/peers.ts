/**
 * The peer tools, run the way their documentation recommends for the fastest local path:
 * Sling (PyPI `sling-linux-amd64`, the wheel with the binary) writing Parquet, and dlt's sql_database source with the pyarrow or
 * connectorx backend writing Delta through the filesystem destination. They live in a throwaway
 * virtualenv that `--install-peers` creates; they are never dependencies of etld.
 */
import { existsSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export const DEFAULT_VENV = '/opt/etld-bench-venv';

export function venvPython(venv: string): string {
  return join(venv, 'bin', 'python');
}

/**
 * The Sling executable from the `sling-linux-amd64` wheel, which ships the binary. (The `sling`
 * package downloads its binary at first use, which this network does not allow.)
 */
export function slingBinary(venv: string): string | undefined {
  const lib = join(venv, 'lib');
  if (!existsSync(lib)) return undefined;
  for (const python of readdirSync(lib)) {
    const path = join(lib, python, 'site-packages', 'sling_linux_amd64', 'bin', 'sling-linux-amd64');
    if (existsSync(path)) return path;
  }
  return undefined;
}

/** The DuckDB CLI from the `duckdb-cli` wheel, handed to Sling as DUCKDB_PATH. */
export function duckdbCli(venv: string): string | undefined {
  const path = join(venv, 'bin', 'duckdb');
  return existsSync(path) ? path : undefined;
}

export function peerInstallCommands(venv: string): string[][] {
  return [
    ['python3', '-m', 'venv', venv],
    [
      join(venv, 'bin', 'pip'),
      'install',
      '--quiet',
      'sling-linux-amd64',
      // Sling writes Parquet through the DuckDB CLI, which it would otherwise download at run time.
      'duckdb-cli',
      'psycopg[binary]',
      'dlt[parquet,deltalake,filesystem]',
      'sqlalchemy',
      'connectorx',
      'psycopg2-binary',
      'pymysql',
      'pyarrow',
    ],
  ];
}

/** A dlt script: one table, replace disposition, Delta table format on the local filesystem. */
export function writeDltScript(dir: string): string {
  const file = join(dir, 'dlt_bench.py');
  writeFileSync(
    file,
    `import sys, dlt
from dlt.sources.sql_database import sql_table

url, backend, out_dir, pipelines_dir = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4]
table = sql_table(credentials=url, table="bench", backend=backend, chunk_size=200000)
pipeline = dlt.pipeline(
    pipeline_name="bench_" + backend,
    destination=dlt.destinations.filesystem(bucket_url="file://" + out_dir),
    dataset_name="bench",
    pipelines_dir=pipelines_dir,
)
info = pipeline.run(table, loader_file_format="parquet", table_format="delta", write_disposition="replace")
print(info)
`,
  );
  return file;
}
