/**
 * VACUUM: deletes data files that no snapshot within the retention period can reference. A file is
 * kept when the current snapshot holds it, when a remove tombstone younger than the retention names
 * it, or when it was modified within the retention (it may belong to a run still committing).
 * Nothing under `_delta_log` or any other `_`/`.` entry is touched (Spark's hidden-file rule),
 * except the staging directories etld's own loads leave behind in a local table when killed
 * mid-write. Works on every store: one listing of the table, the modification times it returns.
 */
import { DuckDBInstance } from '@duckdb/node-api';
import { EtlError } from '../../../shared/errors.js';
import type { ObjectStore } from '../../storage/object-store.js';
import { tombstoneRetentionMs } from './delta-checkpoint.js';
import { checkTableFeatures } from './delta-features.js';
import { DeltaFiles, STAGING_PREFIX } from './delta-files.js';
import { readSnapshot } from './delta-log-reader.js';
import { dataFileKey } from './delta-paths.js';

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

/** Deleted per store call (S3 DeleteObjects takes at most 1,000 keys). */
const DELETE_BATCH = 1000;

/** Whether a key is metadata (`_`/`.` entries) rather than data; partition directories `_k=1` are data. */
function hidden(key: string): boolean {
  const segments = key.split('/');
  return segments.some((name, i) => {
    const marked = name.startsWith('_') || name.startsWith('.');
    const isDirectory = i < segments.length - 1;
    return marked && !(isDirectory && name.includes('='));
  });
}

export async function vacuumDeltaTable(
  store: ObjectStore,
  options: VacuumOptions = {},
): Promise<VacuumResult> {
  const now = options.now ?? Date.now();
  const table = new DeltaFiles(store);
  const db = await DuckDBInstance.create(':memory:');
  const connection = await db.connect();
  try {
    const snapshot = await readSnapshot(table, connection);
    if (snapshot === undefined)
      throw new EtlError('NOT_FOUND', `${table.label} is not a Delta table (no _delta_log commits)`);
    checkTableFeatures(
      snapshot.protocol,
      snapshot.metadata,
      snapshot.schema,
      snapshot.files.values(),
      table.label,
    );
    const retention = options.retentionMs ?? tombstoneRetentionMs(snapshot);
    const cutoff = now - retention;
    const referenced = new Set<string>();
    for (const add of snapshot.files.values()) referenced.add(dataFileKey(store, add.path));
    for (const remove of snapshot.tombstones.values()) {
      if ((remove.deletionTimestamp ?? now) > cutoff) referenced.add(dataFileKey(store, remove.path));
    }
    const files: string[] = [];
    let bytes = 0;
    let batch: string[] = [];
    const flush = async (): Promise<void> => {
      if (options.dryRun !== true && batch.length > 0) await store.delete(batch);
      batch = [];
    };
    for await (const info of store.list('')) {
      // Staging directories of loads killed before they finished (a finished load removes its
      // own): their files, once as old as the retention; everything else hidden stays.
      const staged = info.key.startsWith(STAGING_PREFIX) && info.key.includes('/');
      if (!staged && (hidden(info.key) || referenced.has(info.key))) continue;
      if (info.lastModified.getTime() > cutoff) continue;
      files.push(info.key);
      bytes += info.size;
      batch.push(info.key);
      if (batch.length >= DELETE_BATCH) await flush();
    }
    await flush();
    if (options.dryRun !== true) {
      const emptied = new Set(
        files.filter((f) => f.startsWith(STAGING_PREFIX)).map((f) => f.split('/')[0] ?? ''),
      );
      await table.pruneStaging(cutoff, emptied);
    }
    files.sort();
    return { files, bytes };
  } finally {
    connection.closeSync();
    db.closeSync();
    await table.dispose();
  }
}
