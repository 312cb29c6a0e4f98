/**
 * A throwaway MariaDB server for tests: Debian's mariadbd with a temp data directory, a free port
 * on 127.0.0.1 and a root user without password (tests only).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawn, type ChildProcess } from 'node:child_process';
import mysql from 'mysql2/promise';
import { freePort } from './free-port.js';
import { runCommand, waitFor } from './process.js';

export interface MariaDbServer {
  readonly host: string;
  readonly port: number;
  readonly user: string;
  readonly socket: string;
  /** Runs SQL (one statement) in `database`; returns rows as objects. */
  query(sql: string, params?: unknown[], database?: string): Promise<Record<string, unknown>[]>;
  createDatabase(name: string): Promise<void>;
  /**
   * Resolves once another session runs a statement whose text contains `text` (in PROCESSLIST
   * state `state`, when given): a statement sent is not yet a statement running.
   */
  statementRunning(text: string, what: string, state?: string): Promise<void>;
  stop(): Promise<void>;
  start(): Promise<void>;
  destroy(): Promise<void>;
}

const isRoot = process.getuid?.() === 0;

/** `serverArgs`: more mariadbd options (e.g. `--lower-case-table-names=1`). */
export async function startMariaDb(serverArgs: readonly string[] = []): Promise<MariaDbServer> {
  const dir = mkdtempSync(join(tmpdir(), 'etld-maria-'));
  const dataDir = join(dir, 'data');
  const socket = join(dir, 'mysqld.sock');
  const userArgs = isRoot ? ['--user=root'] : [];
  const install = await runCommand('mariadb-install-db', [
    `--datadir=${dataDir}`,
    '--auth-root-authentication-method=normal',
    '--skip-test-db',
    ...userArgs,
  ]);
  if (install.code !== 0) throw new Error(`mariadb-install-db failed: ${install.stderr}${install.stdout}`);
  const port = await freePort();
  let child: ChildProcess | undefined;

  const start = async (): Promise<void> => {
    const proc = spawn(
      'mariadbd',
      [
        '--no-defaults',
        `--datadir=${dataDir}`,
        `--socket=${socket}`,
        `--port=${port}`,
        '--bind-address=127.0.0.1',
        '--skip-name-resolve',
        '--innodb-flush-log-at-trx-commit=0',
        '--innodb-buffer-pool-size=256M',
        '--max-connections=300',
        `--pid-file=${join(dir, 'mysqld.pid')}`,
        ...userArgs,
        ...serverArgs,
      ],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
    child = proc;
    let stderr = '';
    proc.stderr?.on('data', (c: Buffer) => (stderr = (stderr + c.toString()).slice(-4000)));
    await waitFor(
      async () => {
        if (proc.exitCode !== null) throw new Error(`mariadbd exited: ${stderr}`);
        const conn = await mysql.createConnection({ host: '127.0.0.1', port, user: 'root' });
        await conn.end();
        return true;
      },
      { timeoutMs: 60_000, what: `MariaDB on port ${port}` },
    );
  };

  const stop = async (): Promise<void> => {
    const proc = child;
    child = undefined;
    if (!proc || proc.exitCode !== null) return;
    const exited = new Promise((resolve) => proc.once('exit', resolve));
    proc.kill('SIGTERM');
    await Promise.race([exited, new Promise((r) => setTimeout(r, 20_000))]);
    if (proc.exitCode === null) proc.kill('SIGKILL');
  };

  await start();
  const query = async (
    sql: string,
    params: unknown[] = [],
    database?: string,
  ): Promise<Record<string, unknown>[]> => {
    const conn = await mysql.createConnection({
      host: '127.0.0.1',
      port,
      user: 'root',
      ...(database ? { database } : {}),
      multipleStatements: true,
    });
    try {
      const [rows] = await conn.query(sql, params);
      return Array.isArray(rows) ? (rows as Record<string, unknown>[]) : [];
    } finally {
      await conn.end();
    }
  };
  return {
    host: '127.0.0.1',
    port,
    user: 'root',
    socket,
    query,
    createDatabase: async (name) => {
      await query(`CREATE DATABASE \`${name}\``);
    },
    statementRunning: async (text, what, state) => {
      await waitFor(
        async () => {
          const rows = await query(
            `SELECT COUNT(*) AS n FROM information_schema.PROCESSLIST
             WHERE ID <> CONNECTION_ID() AND LOCATE(?, INFO) > 0 AND (? IS NULL OR STATE = ?)`,
            [text, state ?? null, state ?? null],
          );
          return Number(rows[0]?.n ?? 0) > 0 ? true : undefined;
        },
        { timeoutMs: 20_000, intervalMs: 20, what },
      );
    },
    stop,
    start,
    destroy: async () => {
      await stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
