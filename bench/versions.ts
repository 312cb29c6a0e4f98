/** The machine and the version of every tool in the run, for the report's header. */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { join } from 'node:path';
import mysql from 'mysql2/promise';
import pg from 'pg';
import type { Connection } from './cases.js';

export interface Machine {
  readonly cpu: string;
  readonly cores: number;
  readonly memoryGb: number;
}

export function machine(): Machine {
  const model = cpus()[0]?.model.trim() ?? 'unknown';
  return { cpu: model, cores: cpus().length, memoryGb: totalmem() / 2 ** 30 };
}

/** First line of a command's output, or `not found`. */
function firstLine(command: string, args: readonly string[]): string {
  const result = spawnSync(command, args, { encoding: 'utf8', timeout: 30_000 });
  if (result.error !== undefined || result.status !== 0) return 'not found';
  return (
    `${result.stdout}\n${result.stderr}`
      .split('\n')
      .map((l) => l.trim())
      .find((l) => l !== '') ?? 'unknown'
  );
}

/** etld's commit, with `+dirty` when the work tree has uncommitted changes. */
export function etldCommit(repoRoot: string): string {
  const commit = firstLine('git', ['-C', repoRoot, 'rev-parse', '--short=10', 'HEAD']);
  const status = spawnSync('git', ['-C', repoRoot, 'status', '--porcelain', '--untracked-files=no'], {
    encoding: 'utf8',
  });
  return status.stdout.trim() === '' ? commit : `${commit}+dirty`;
}

export function clientVersions(): Record<string, string> {
  return {
    psql: firstLine('psql', ['--version']),
    'mariadb client': firstLine('mariadb', ['--version']),
  };
}

/** A package's version from the repository's node_modules. */
export function nodePackageVersion(repoRoot: string, name: string): string {
  try {
    const json = JSON.parse(readFileSync(join(repoRoot, 'node_modules', name, 'package.json'), 'utf8')) as {
      version?: string;
    };
    return json.version ?? 'unknown';
  } catch {
    return 'not found';
  }
}

/** The installed versions of Python distributions (the versions probe of peer-scripts.ts). */
export function pythonVersions(
  python: string,
  script: string,
  names: readonly string[],
): Record<string, string | null> {
  const result = spawnSync(python, [script, ...names], { encoding: 'utf8', timeout: 60_000 });
  if (result.status !== 0) return Object.fromEntries(names.map((n) => [n, null]));
  try {
    return JSON.parse(result.stdout) as Record<string, string | null>;
  } catch {
    return Object.fromEntries(names.map((n) => [n, null]));
  }
}

/** `sling --version` prints `Version: 1.4.11`. */
export function slingVersion(binary: string): string {
  return firstLine(binary, ['--version']).replace(/^Version:\s*/, '');
}

/** The servers' own version strings (MariaDB's only when it ran: `myTarget` not null). */
export async function serverVersions(
  pgTarget: Connection,
  myTarget: Connection | null,
): Promise<Record<string, string>> {
  const client = new pg.Client({ ...pgTarget });
  await client.connect();
  const conn = myTarget === null ? null : await mysql.createConnection({ ...myTarget });
  try {
    const pgVersion = await client.query<{ server_version: string }>('SHOW server_version');
    const versions = { 'PostgreSQL server': pgVersion.rows[0]?.server_version ?? 'unknown' };
    if (conn === null) return versions;
    const [rows] = await conn.query<mysql.RowDataPacket[]>('SELECT version() AS v');
    return { ...versions, 'MariaDB server': String(rows[0]?.v ?? 'unknown') };
  } finally {
    await client.end();
    await conn?.end();
  }
}
