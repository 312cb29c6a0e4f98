/**
 * Racing writers and crashes: put-if-absent commits never lose or duplicate a commit, and a writer
 * killed between its data files and its commit leaves the table as it was.
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { DuckDBInstance } from '@duckdb/node-api';
import type { DuckDBConnection } from '@duckdb/node-api';
import { mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { putIfAbsent } from '../../daemon/destinations/delta/delta-commit.js';
import { DeltaDestination } from '../../daemon/destinations/delta/delta-destination.js';
import type { DeltaSnapshot } from '../../daemon/destinations/delta/delta-log-reader.js';
import { readSnapshot } from '../../daemon/destinations/delta/delta-log-reader.js';
import { vacuumDeltaTable } from '../../daemon/destinations/delta/delta-vacuum.js';
import { silentLogger } from '../../daemon/logging/logger.js';
import type { ColumnSchema } from '../../shared/types.js';
import { runCommand } from '../helpers/process.js';
import { repoRoot, tempDir } from './fixtures.js';
import { Staging, request } from './staging.js';
import { commitBatch, type StagedBatch } from '../conformance/commit-batch.js';
import { FileStore } from '../../daemon/storage/file-store.js';
import { tableFiles } from './fixtures.js';

const ID: ColumnSchema[] = [{ name: 'id', type: { kind: 'int64' }, nullable: true }];

/** Every id stored in the live files of the newest snapshot. */
async function liveIds(
  connection: DuckDBConnection,
  table: string,
): Promise<{ snapshot: DeltaSnapshot; ids: number[] }> {
  const snapshot = await readSnapshot(tableFiles(table), connection);
  if (!snapshot) throw new Error(`${table} has no snapshot`);
  const files = [...snapshot.files.values()].map((a) => `'${join(table, a.path)}'`);
  if (files.length === 0) return { snapshot, ids: [] };
  const rows = await connection.runAndReadAll(
    `SELECT id FROM read_parquet([${files.join(',')}]) ORDER BY id`,
  );
  return { snapshot, ids: rows.getRows().map((r) => Number(r[0])) };
}

async function logVersions(table: string): Promise<number[]> {
  return (await readdir(join(table, '_delta_log')))
    .filter((n) => /^\d{20}\.json$/.test(n))
    .map((n) => Number(n.slice(0, 20)))
    .sort((a, b) => a - b);
}

describe('concurrent writers and crashes', () => {
  let dir: string;
  let cleanup: () => Promise<void>;
  let db: DuckDBInstance;
  let connection: DuckDBConnection;
  let childScript: string;

  beforeAll(async () => {
    ({ dir, cleanup } = await tempDir('race'));
    db = await DuckDBInstance.create(':memory:');
    connection = await db.connect();
    // The child writer runs as a separate node process: compile it (and what it imports) with tsc
    // into a folder under node_modules so its package imports resolve.
    const outDir = join(repoRoot, 'node_modules', '.cache', `etld-delta-child-${process.pid}`);
    await mkdir(outDir, { recursive: true });
    await writeFile(join(outDir, 'package.json'), JSON.stringify({ type: 'module' }));
    const config = join(outDir, 'tsconfig.json');
    await writeFile(
      config,
      JSON.stringify({
        extends: join(repoRoot, 'tsconfig.base.json'),
        compilerOptions: { rootDir: repoRoot, outDir, sourceMap: false },
        files: [join(repoRoot, 'test', 'delta', 'fixtures', 'commit-child.ts')],
      }),
    );
    const tsc = await runCommand(join(repoRoot, 'node_modules', '.bin', 'tsc'), ['-p', config], {
      cwd: repoRoot,
    });
    expect(tsc.code, tsc.stdout + tsc.stderr).toBe(0);
    childScript = join(outDir, 'test', 'delta', 'fixtures', 'commit-child.js');
  }, 300_000);

  afterAll(async () => {
    connection.closeSync();
    db.closeSync();
    await cleanup();
    await rm(join(repoRoot, 'node_modules', '.cache', `etld-delta-child-${process.pid}`), {
      recursive: true,
      force: true,
    });
  });

  function child(args: string[]): {
    process: ChildProcess;
    output: Promise<string>;
    line: (text: string) => Promise<void>;
  } {
    const proc = spawn(process.execPath, [childScript, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    const waiters: { text: string; resolve: () => void }[] = [];
    proc.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
      for (const w of waiters.filter((w) => stdout.includes(w.text))) w.resolve();
    });
    proc.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const output = new Promise<string>((resolve, reject) => {
      proc.once('close', (code, signal) =>
        code === 0 ? resolve(stdout) : reject(new Error(`child exited ${code ?? signal}: ${stderr}`)),
      );
    });
    const line = (text: string) =>
      new Promise<void>((resolve, reject) => {
        if (stdout.includes(text)) resolve();
        else waiters.push({ text, resolve });
        proc.once('close', () => reject(new Error(`child closed before printing ${text}: ${stderr}`)));
      });
    return { process: proc, output, line };
  }

  it('two processes appending concurrently never lose or duplicate a commit', async () => {
    const table = join(dir, 'two-processes');
    const staging = await Staging.open();
    const seed = new DeltaDestination({ store: new FileStore(table), logger: silentLogger });
    await commitBatch(
      seed,
      request(await staging.batch(ID, ['(0)']), 1, 'incremental', { pipeline: 'seed' }),
    );
    await seed.close();
    staging.close();

    const a = child([table, 'writer_a', '1', '6']);
    const b = child([table, 'writer_b', '101', '6']);
    await Promise.all([a.output, b.output]);

    const { snapshot, ids } = await liveIds(connection, table);
    expect(ids).toEqual([0, 1, 2, 3, 4, 5, 6, 101, 102, 103, 104, 105, 106]);
    expect(await logVersions(table)).toEqual(Array.from({ length: 13 }, (_, i) => i));
    expect(snapshot.txns.get('writer_a')?.version).toBe(6);
    expect(snapshot.txns.get('writer_b')?.version).toBe(106);
  });

  it('in-process racing commits: appends all land, a duplicate sequence commits once, overwrites recompute removes', async () => {
    const table = join(dir, 'in-process');
    const stagings = await Promise.all([Staging.open(), Staging.open(), Staging.open()]);
    const pairs = stagings.map((staging) => ({
      staging,
      writer: new DeltaDestination({ store: new FileStore(table), logger: silentLogger }),
    }));
    const writers = pairs.map((p) => p.writer);
    try {
      // Creating the table: exactly one writer wins version 0; the loser gets a retryable conflict.
      // Every load begins (finding no table) before any commits: the race is between creators.
      const batches = await Promise.all(pairs.map(({ staging }, i) => staging.batch(ID, [`(${1000 + i})`])));
      const loads = await Promise.all(
        pairs.map(({ writer }, i) => {
          const batch = batches[i] as StagedBatch;
          const { batch: _, ...rest } = request(batch, 1, 'incremental', { pipeline: `p${i}` });
          return writer.beginLoad({ ...rest, columns: batch.columns, workDir: batch.workDir });
        }),
      );
      const created = await Promise.allSettled(
        loads.map(async (load, i) => {
          const batch = batches[i] as StagedBatch;
          await load.writePart({
            connection: batch.connection,
            select: `SELECT * FROM ${batch.relation}`,
            id: 'create',
          });
          try {
            return await load.commit();
          } catch (error) {
            await load.abort();
            throw error;
          }
        }),
      );
      const losers = created.filter((r) => r.status === 'rejected');
      expect(created.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
      for (const loser of losers)
        expect(loser.reason).toMatchObject({ code: 'DESTINATION_CONFLICT', retryable: true });

      // The same pipeline and sequence from three writers at once: one commit, two skips.
      const same = await Promise.all(
        pairs.map(async ({ staging, writer }) =>
          commitBatch(
            writer,
            request(await staging.batch(ID, ['(7)']), 2, 'incremental', { pipeline: 'dup' }),
          ),
        ),
      );
      expect(same.filter((r) => !r.alreadyCommitted)).toHaveLength(1);
      let { ids } = await liveIds(connection, table);
      expect(ids.filter((id) => id === 7)).toHaveLength(1);

      // An overwrite racing two appends: whatever the order, the overwrite's removes cover every
      // file live before it, so the table holds its row plus only appends that committed after it.
      const results = await Promise.all([
        (async () =>
          writers[0] &&
          commitBatch(
            writers[0],
            request(await stagings[0].batch(ID, ['(500)']), 3, 'full', { pipeline: 'full' }),
          ))(),
        (async () =>
          writers[1] &&
          commitBatch(
            writers[1],
            request(await stagings[1].batch(ID, ['(501)']), 3, 'incremental', { pipeline: 'app1' }),
          ))(),
        (async () =>
          writers[2] &&
          commitBatch(
            writers[2],
            request(await stagings[2].batch(ID, ['(502)']), 3, 'incremental', { pipeline: 'app2' }),
          ))(),
      ]);
      const versions = results.map((r) => Number(r?.details.version));
      const fullVersion = versions[0] ?? -1;
      ({ ids } = await liveIds(connection, table));
      const expected = [500, ...[501, 502].filter((_, i) => (versions[i + 1] ?? -1) > fullVersion)].sort(
        (x, y) => x - y,
      );
      expect(ids).toEqual(expected);
      const versionsOnDisk = await logVersions(table);
      expect(versionsOnDisk).toEqual(Array.from({ length: versionsOnDisk.length }, (_, i) => i));
    } finally {
      for (const w of writers) await w.close();
      for (const s of stagings) s.close();
    }
  });

  it('a writer SIGKILLed between data files and commit leaves the previous version; the retry commits once', async () => {
    const table = join(dir, 'killed');
    const first = child([table, 'orders', '1', '1']);
    await first.output;
    const before = await liveIds(connection, table);

    const victim = child([table, 'orders', '2', '1', 'pause']);
    await victim.line('FILES_WRITTEN');
    victim.process.kill('SIGKILL');
    await expect(victim.output).rejects.toThrow(/SIGKILL/);

    const orphans = (await readdir(table)).filter((n) => n.endsWith('.parquet'));
    expect(orphans.length).toBe(before.snapshot.files.size + 1);
    const after = await liveIds(connection, table);
    expect(after.snapshot.version).toBe(before.snapshot.version);
    expect(after.ids).toEqual([1]);
    expect(after.snapshot.txns.get('orders')?.version).toBe(1);

    // The retried run (same sequence) commits exactly once, and a second retry is skipped.
    const retry = child([table, 'orders', '2', '1']);
    const again = child([table, 'orders', '2', '1']);
    const outputs = await Promise.all([retry.output, again.output]);
    const done = outputs.map(
      (o) => JSON.parse(o.slice(o.indexOf('DONE ') + 5)) as { alreadyCommitted: boolean }[],
    );
    expect(done.flat().filter((r) => !r.alreadyCommitted)).toHaveLength(1);
    const final = await liveIds(connection, table);
    expect(final.ids).toEqual([1, 2]);
    expect(final.snapshot.version).toBe(before.snapshot.version + 1);

    // The orphan is unreferenced: vacuum (retention 0) removes it and nothing the snapshot uses.
    // Orphans: the killed attempt's file, plus the losing retry's file when it wrote before it lost.
    const onDisk = (await readdir(table)).filter((n) => n.endsWith('.parquet'));
    const live = new Set([...final.snapshot.files.values()].map((a) => a.path));
    const unreferenced = onDisk.filter((n) => !live.has(n)).sort();
    expect(unreferenced.length).toBeGreaterThanOrEqual(1);
    const dry = await vacuumDeltaTable(new FileStore(table), {
      retentionMs: 0,
      dryRun: true,
      now: Date.now() + 1000,
    });
    expect(dry.files).toEqual(unreferenced);
    expect(dry.bytes).toBeGreaterThan(0);
    const done2 = await vacuumDeltaTable(new FileStore(table), { retentionMs: 0, now: Date.now() + 1000 });
    expect(done2.files).toEqual(dry.files);
    expect((await liveIds(connection, table)).ids).toEqual([1, 2]);
    expect((await readdir(table)).filter((n) => n.endsWith('.parquet'))).toHaveLength(
      final.snapshot.files.size,
    );
  });

  it('vacuum keeps recent orphans, young tombstones and the log', async () => {
    const table = join(dir, 'vacuum');
    const staging = await Staging.open();
    const writer = new DeltaDestination({ store: new FileStore(table), logger: silentLogger });
    try {
      await commitBatch(writer, request(await staging.batch(ID, ['(1)']), 1));
      await commitBatch(writer, request(await staging.batch(ID, ['(2)']), 2, 'full'));
      const logBefore = await readdir(join(table, '_delta_log'));
      const hour = 3_600_000;
      // Everything is younger than a week: nothing goes.
      expect(await vacuumDeltaTable(new FileStore(table), { now: Date.now() })).toEqual({
        files: [],
        bytes: 0,
      });
      // Far in the future the tombstoned file is expired and unreferenced; the live file stays.
      const later = await vacuumDeltaTable(new FileStore(table), {
        retentionMs: hour,
        now: Date.now() + 2 * hour,
      });
      expect(later.files).toHaveLength(1);
      const { snapshot } = await liveIds(connection, table);
      expect(later.files[0]).not.toBe([...snapshot.files.values()][0]?.path);
      expect(await readdir(join(table, '_delta_log'))).toEqual(logBefore);
      expect(
        JSON.parse(
          await readFile(join(table, '_delta_log', '00000000000000000001.json'), 'utf8').then(
            (t) => t.split('\n')[0] ?? '{}',
          ),
        ),
      ).toHaveProperty('commitInfo');
      await expect(vacuumDeltaTable(new FileStore(join(dir, 'nowhere')))).rejects.toMatchObject({
        code: 'NOT_FOUND',
      });
    } finally {
      await writer.close();
      staging.close();
    }
  });
});

describe('putIfAbsent', () => {
  it('creates a version once, reports the loser and leaves no temp file', async () => {
    const { dir, cleanup } = await tempDir('put');
    try {
      await mkdir(join(dir, '_delta_log'));
      const results = await Promise.all(
        Array.from({ length: 8 }, (_, i) => putIfAbsent(tableFiles(dir), 0, `{"writer":${i}}\n`)),
      );
      expect(results.filter(Boolean)).toHaveLength(1);
      const winner = results.indexOf(true);
      expect(await readFile(join(dir, '_delta_log', '00000000000000000000.json'), 'utf8')).toBe(
        `{"writer":${winner}}\n`,
      );
      expect(await readdir(join(dir, '_delta_log'))).toEqual(['00000000000000000000.json']);
      // Version 0 creates the log; a later version of a table whose log is gone is refused, so a
      // vanished table never comes back as a log starting at that version.
      expect(await putIfAbsent(tableFiles(join(dir, 'new')), 0, '{}\n')).toBe(true);
      expect(await readdir(join(dir, 'new', '_delta_log'))).toEqual(['00000000000000000000.json']);
      await expect(putIfAbsent(tableFiles(join(dir, 'missing')), 3, '{}\n')).rejects.toThrow();
      await expect(readdir(join(dir, 'missing'))).rejects.toMatchObject({ code: 'ENOENT' });
    } finally {
      await cleanup();
    }
  });
});
