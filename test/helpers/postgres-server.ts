/**
 * A throwaway PostgreSQL server for tests: the Debian binaries, a temp data directory, a free port
 * on 127.0.0.1, trust authentication, fsync off. PostgreSQL refuses to run as root, so as root the
 * server runs as the `postgres` system user.
 */
import { chmodSync, chownSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawn, type ChildProcess, execFileSync } from 'node:child_process';
import pg from 'pg';
import { freePort } from './free-port.js';
import { runCommand, waitFor } from './process.js';

export interface PostgresServer {
  readonly host: string;
  readonly port: number;
  readonly user: string;
  /** `postgres://postgres@127.0.0.1:port/<database>` */
  url(database?: string): string;
  /** Runs SQL (several statements allowed) in `database` (default `postgres`). */
  query<R extends pg.QueryResultRow = Record<string, unknown>>(
    sql: string,
    params?: unknown[],
    database?: string,
  ): Promise<R[]>;
  createDatabase(name: string): Promise<void>;
  /** Stops the server process (data kept): simulates the source being down. */
  stop(): Promise<void>;
  /** Starts it again on the same port. */
  start(): Promise<void>;
  /** Stops and removes everything. */
  destroy(): Promise<void>;
}

function postgresBinDir(): string {
  const override = process.env.ETLD_TEST_PG_BIN;
  if (override) return override;
  const base = '/usr/lib/postgresql';
  if (!existsSync(base))
    throw new Error(
      'PostgreSQL binaries not found under /usr/lib/postgresql: apt-get install postgresql (.ci/run does)',
    );
  const versions = readdirSync(base)
    .filter((v) => existsSync(join(base, v, 'bin', 'postgres')))
    .sort((a, b) => Number(b) - Number(a));
  const newest = versions[0];
  if (newest === undefined) throw new Error('no PostgreSQL server binaries under /usr/lib/postgresql');
  return join(base, newest, 'bin');
}

const isRoot = process.getuid?.() === 0;

/**
 * As root, the server processes run as the `postgres` user, spawned with uid/gid directly (not
 * through runuser, which would not pass SIGINT on, so a stop could not really stop the server).
 */
function postgresIds(): { uid: number; gid: number } | Record<string, never> {
  if (!isRoot) return {};
  return {
    uid: Number(execFileSync('id', ['-u', 'postgres']).toString().trim()),
    gid: Number(execFileSync('id', ['-g', 'postgres']).toString().trim()),
  };
}

export async function startPostgres(
  options: { settings?: Record<string, string> } = {},
): Promise<PostgresServer> {
  const bin = postgresBinDir();
  const dir = mkdtempSync(join(tmpdir(), 'etld-pg-'));
  chmodSync(dir, 0o755);
  const dataDir = join(dir, 'data');
  const socketDir = join(dir, 'sock');
  execFileSync('mkdir', ['-p', dataDir, socketDir]);
  const ids = postgresIds();
  if ('uid' in ids) for (const path of [dir, dataDir, socketDir]) chownSync(path, ids.uid, ids.gid);
  const init = await runCommand(
    join(bin, 'initdb'),
    ['-D', dataDir, '-U', 'postgres', '--auth=trust', '-E', 'UTF8', '--locale=C.UTF-8', '--no-sync'],
    {
      ...ids,
      cwd: dir,
    },
  );
  if (init.code !== 0) throw new Error(`initdb failed: ${init.stderr}`);

  const port = await freePort();
  const settings: Record<string, string> = {
    listen_addresses: '127.0.0.1',
    port: String(port),
    unix_socket_directories: socketDir,
    fsync: 'off',
    synchronous_commit: 'off',
    full_page_writes: 'off',
    max_connections: '200',
    shared_buffers: '128MB',
    ...options.settings,
  };
  let child: ChildProcess | undefined;
  const poolByDb = new Map<string, pg.Pool>();

  const start = async (): Promise<void> => {
    const args = ['-D', dataDir, ...Object.entries(settings).flatMap(([k, v]) => ['-c', `${k}=${v}`])];
    const proc = spawn(join(bin, 'postgres'), args, {
      stdio: ['ignore', 'ignore', 'pipe'],
      cwd: dir,
      ...ids,
    });
    child = proc;
    let stderr = '';
    proc.stderr?.on('data', (c: Buffer) => (stderr = (stderr + c.toString()).slice(-4000)));
    await waitFor(
      async () => {
        if (proc.exitCode !== null) throw new Error(`postgres exited: ${stderr}`);
        const client = new pg.Client({ host: '127.0.0.1', port, user: 'postgres', database: 'postgres' });
        try {
          await client.connect();
          return true;
        } finally {
          await client.end().catch(() => undefined);
        }
      },
      { timeoutMs: 60_000, what: `PostgreSQL on port ${port}` },
    );
  };

  const stop = async (): Promise<void> => {
    for (const pool of poolByDb.values()) await pool.end().catch(() => undefined);
    poolByDb.clear();
    const proc = child;
    child = undefined;
    if (!proc || proc.exitCode !== null) return;
    const exited = new Promise((resolve) => proc.once('exit', resolve));
    // SIGINT is PostgreSQL's "fast shutdown": active connections are cut, as when a host dies.
    proc.kill('SIGINT');
    await Promise.race([exited, new Promise((r) => setTimeout(r, 15_000))]);
    if (proc.exitCode === null) proc.kill('SIGKILL');
  };

  const pool = (database: string): pg.Pool => {
    let p = poolByDb.get(database);
    if (!p) {
      p = new pg.Pool({ host: '127.0.0.1', port, user: 'postgres', database, max: 4 });
      p.on('error', () => undefined);
      poolByDb.set(database, p);
    }
    return p;
  };

  await start();
  return {
    host: '127.0.0.1',
    port,
    user: 'postgres',
    url: (database = 'postgres') => `postgres://postgres@127.0.0.1:${port}/${database}`,
    query: async <R extends pg.QueryResultRow>(sql: string, params?: unknown[], database = 'postgres') => {
      const result = await pool(database).query<R>(sql, params);
      return Array.isArray(result) ? ((result as pg.QueryResult<R>[]).at(-1)?.rows ?? []) : result.rows;
    },
    createDatabase: async (name: string) => {
      await pool('postgres').query(`CREATE DATABASE "${name}"`);
    },
    stop,
    start,
    destroy: async () => {
      await stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
