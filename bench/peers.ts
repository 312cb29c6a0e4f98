/**
 * Where the peer tools live and how they are installed: a throwaway virtualenv that
 * `--install-peers` creates from PyPI. They are never dependencies of etld.
 *
 * - Sling: the `sling` package (1.6.x) only downloads its binary from GitHub at first use, which
 *   this network does not allow; `sling-linux-amd64` is the newest PyPI wheel that ships the binary.
 * - Sling writes Parquet by piping CSV into the DuckDB CLI (`read_csv` over a local HTTP URL), so it
 *   needs the CLI and DuckDB's json and httpfs extensions, which DuckDB would otherwise download at
 *   run time. PyPI has the CLI (`duckdb-cli`) and the extensions (`duckdb-extension-*`), but only at
 *   matching versions up to DUCKDB_FOR_SLING; an extension loads only into its own DuckDB version.
 * - dlt (sql_database source, pyarrow/connectorx backends, Delta through the filesystem
 *   destination) and polars (`read_database_uri` with ConnectorX, `write_delta` with delta-rs).
 */
import { existsSync, mkdirSync, readdirSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';

export const DEFAULT_VENV = '/opt/etld-bench-venv';

/** The newest version with both the CLI and the json/httpfs extensions on PyPI. */
const DUCKDB_FOR_SLING = '1.5.5';
const SLING_EXTENSIONS = ['json', 'httpfs'] as const;

export function venvPython(venv: string): string {
  return join(venv, 'bin', 'python');
}

function sitePackages(venv: string): string | undefined {
  const lib = join(venv, 'lib');
  if (!existsSync(lib)) return undefined;
  const python = readdirSync(lib).find((entry) => entry.startsWith('python'));
  return python === undefined ? undefined : join(lib, python, 'site-packages');
}

/** The Sling executable shipped by the `sling-linux-amd64` wheel. */
export function slingBinary(venv: string): string | undefined {
  const site = sitePackages(venv);
  const path = site && join(site, 'sling_linux_amd64', 'bin', 'sling-linux-amd64');
  return path !== undefined && existsSync(path) ? path : undefined;
}

/**
 * The DuckDB CLI binary of the `duckdb-cli` wheel (not its `bin/duckdb` Python launcher, which
 * Sling cannot drive).
 */
export function duckdbCli(venv: string): string | undefined {
  const site = sitePackages(venv);
  const path = site && join(site, 'duckdb_cli', 'duckdb');
  return path !== undefined && existsSync(path) ? path : undefined;
}

/**
 * Makes a home directory for Sling's processes whose `~/.duckdb/extensions/v<version>/linux_amd64/`
 * holds the extensions from PyPI, where the DuckDB CLI autoloads them from. Returns the directory,
 * or why Parquet is not possible.
 */
export function prepareSlingHome(venv: string, dir: string): { home: string } | { reason: string } {
  const site = sitePackages(venv);
  if (site === undefined || duckdbCli(venv) === undefined) return { reason: 'no DuckDB CLI in the venv' };
  const target = join(dir, '.duckdb', 'extensions', `v${DUCKDB_FOR_SLING}`, 'linux_amd64');
  mkdirSync(target, { recursive: true });
  for (const name of SLING_EXTENSIONS) {
    const file = `${name}.duckdb_extension`;
    const source = join(site, `duckdb_extension_${name}`, 'extensions', `v${DUCKDB_FOR_SLING}`, file);
    if (!existsSync(source)) return { reason: `DuckDB ${name} extension v${DUCKDB_FOR_SLING} not installed` };
    if (!existsSync(join(target, file))) symlinkSync(source, join(target, file));
  }
  return { home: dir };
}

/** The PyPI distributions the peers need, with the reason for each pin. */
export const PEER_PACKAGES: readonly string[] = [
  'sling-linux-amd64',
  `duckdb-cli==${DUCKDB_FOR_SLING}`,
  ...SLING_EXTENSIONS.map((name) => `duckdb-extension-${name}==${DUCKDB_FOR_SLING}`),
  'dlt[parquet,deltalake,filesystem]',
  'sqlalchemy',
  'psycopg[binary]',
  'pymysql',
  'connectorx',
  'polars',
  'deltalake',
  'pyarrow',
];

/** `--install-peers`: create the venv if needed and bring every peer to its newest allowed version. */
export function peerInstallCommands(venv: string): string[][] {
  const create = existsSync(venvPython(venv)) ? [] : [['python3', '-m', 'venv', venv]];
  return [...create, [join(venv, 'bin', 'pip'), 'install', '--quiet', '--upgrade', ...PEER_PACKAGES]];
}
