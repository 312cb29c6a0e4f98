/**
 * VACUUM: deletes data files that no snapshot within the retention period can reference. A file is
 * kept when the current snapshot holds it, when a remove tombstone younger than the retention names
 * it, or when it was modified within the retention (it may belong to a run still committing).
 * Nothing under `_delta_log` or any other `_`/`.` entry is touched (Spark's hidden-file rule),
 * except the staging directories etld's own loads leave behind when killed mid-write.
 */
import { DuckDBInstance } from '@duckdb/node-api';
import { readdir, rm, stat } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { EtlError } from '../../../shared/errors.js';
import { tombstoneRetentionMs } from './delta-checkpoint.js';
import { checkTableFeatures } from './delta-features.js';
import { readSnapshot } from './delta-log-reader.js';
import { dataFilePath } from './delta-paths.js';
import { STAGING_PREFIX } from './delta-data-writer.js';

export interface VacuumOptions {
  /** Defaults to the table's `delta.deletedFileRetentionDuration` (one week). */
  readonly retentionMs?: number;
  readonly dryRun?: boolean;
  /** Epoch ms; defaults to the current time. */
  readonly now?: number;
}

export interface VacuumResult {
  /** Deleted (or, in a dry run, deletable) files relative to the table root. */
  readonly files: string[];
  readonly bytes: number;
}

function hidden(name: string, isDirectory: boolean): boolean {
  const marked = name.startsWith('_') || name.startsWith('.');
  // Partition directories such as `_k=1` are data, not metadata.
  return marked && !(isDirectory && name.includes('='));
}

async function* walk(dir: string): AsyncGenerator<string> {
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    if (hidden(entry.name, entry.isDirectory())) continue;
    const full = join(dir, entry.name);
    if (entry.isDirectory()) yield* walk(full);
    else if (entry.isFile()) yield full;
  }
}

export async function vacuumDeltaTable(
  tablePath: string,
  options: VacuumOptions = {},
): Promise<VacuumResult> {
  const now = options.now ?? Date.now();
  const db = await DuckDBInstance.create(':memory:');
  const connection = await db.connect();
  try {
    const snapshot = await readSnapshot(tablePath, connection);
    if (snapshot === undefined)
      throw new EtlError('NOT_FOUND', `${tablePath} is not a Delta table (no _delta_log commits)`);
    checkTableFeatures(
      snapshot.protocol,
      snapshot.metadata,
      snapshot.schema,
      snapshot.files.values(),
      tablePath,
    );
    const retention = options.retentionMs ?? tombstoneRetentionMs(snapshot);
    const cutoff = now - retention;
    const referenced = new Set<string>();
    for (const add of snapshot.files.values()) referenced.add(dataFilePath(tablePath, add.path));
    for (const remove of snapshot.tombstones.values()) {
      if ((remove.deletionTimestamp ?? now) > cutoff) referenced.add(dataFilePath(tablePath, remove.path));
    }
    const files: string[] = [];
    let bytes = 0;
    for await (const file of walk(tablePath)) {
      if (referenced.has(file)) continue;
      const info = await stat(file);
      if (info.mtimeMs > cutoff) continue;
      if (options.dryRun !== true) await rm(file, { force: true });
      files.push(relative(tablePath, file));
      bytes += info.size;
    }
    // Staging directories of loads killed before they finished (a finished load removes its own).
    for (const entry of await readdir(tablePath, { withFileTypes: true })) {
      if (!entry.isDirectory() || !entry.name.startsWith(STAGING_PREFIX)) continue;
      const staging = join(tablePath, entry.name);
      if ((await stat(staging)).mtimeMs > cutoff) continue;
      for (const name of await readdir(staging)) {
        files.push(relative(tablePath, join(staging, name)));
        bytes += (await stat(join(staging, name))).size;
      }
      if (options.dryRun !== true) await rm(staging, { recursive: true, force: true });
    }
    files.sort();
    return { files, bytes };
  } finally {
    connection.closeSync();
    db.closeSync();
  }
}
