/**
 * The SQL of the file ledger (`source_files`, migration 8): which files of a `files` source a
 * pipeline has loaded or quarantined, by key, so each file is loaded exactly once. The SQLite store
 * (sqlite-store.ts) calls these inside its own transactions; commitSourceFiles there wraps the rows
 * and the committed sequence in one.
 *
 * Decisions:
 * - Keys travel as one JSON array parameter read with `json_each`, in batches of at most 500: one
 *   prepared statement whatever the number of keys (the store keeps its statements prepared), far
 *   below SQLite's limit on host parameters, and each batch is one probe of the primary key per key.
 * - Listing is keyset paging in key order (`key > after`), so a page costs its size however large the
 *   ledger is; with a status it walks source_files_by_status, without one the primary key.
 * - The text filter is the lists' (shared/record-text.ts) as an SQL function, so a filtered page is
 *   one query that stops at its limit and matches exactly what the console would.
 */
import type Database from 'better-sqlite3';
import { containsText, sourceFileTextFields } from '../../shared/record-text.js';
import { toSourceFile, type Row } from './row-mappers.js';
import type { NewSourceFile, SourceFileFilter, SourceFileRecord, SourceFileTotals } from './store.js';

/** The most keys one statement looks up or removes. */
const SOURCE_FILE_BATCH = 500;

type Prepare = (sql: string) => Database.Statement;

/** Distinct keys in batches of at most SOURCE_FILE_BATCH (the PostgreSQL store batches the same way). */
export function batches(keys: readonly string[]): string[][] {
  const unique = [...new Set(keys)];
  const result: string[][] = [];
  for (let i = 0; i < unique.length; i += SOURCE_FILE_BATCH)
    result.push(unique.slice(i, i + SOURCE_FILE_BATCH));
  return result;
}

/** `etl_file_text(needle, key, reason)`: 1 when the key or the reason contains the needle, ignoring case. */
export function defineSourceFileTextFilter(db: Database.Database): void {
  db.function('etl_file_text', { deterministic: true }, (needle, key, reason) =>
    containsText(
      sourceFileTextFields({
        key: typeof key === 'string' ? key : '',
        reason: typeof reason === 'string' ? reason : null,
      }),
      typeof needle === 'string' ? needle : '',
    )
      ? 1
      : 0,
  );
}

export function lookupSourceFiles(
  prepare: Prepare,
  pipeline: string,
  keys: readonly string[],
): Map<string, SourceFileRecord> {
  const found = new Map<string, SourceFileRecord>();
  const statement = prepare(
    'SELECT * FROM source_files WHERE pipeline = ? AND key IN (SELECT value FROM json_each(?))',
  );
  for (const batch of batches(keys)) {
    for (const row of statement.all(pipeline, JSON.stringify(batch)) as Row[]) {
      const file = toSourceFile(row);
      found.set(file.key, file);
    }
  }
  return found;
}

/** Writes a run's entries; the caller holds the transaction (and raises the committed sequence in it). */
export function writeSourceFiles(
  prepare: Prepare,
  entry: {
    readonly pipeline: string;
    readonly sequence: number;
    readonly runId: string;
    readonly at: string;
  },
  files: readonly NewSourceFile[],
  replaceLoaded: boolean,
): void {
  if (replaceLoaded)
    prepare("DELETE FROM source_files WHERE pipeline = ? AND status = 'loaded'").run(entry.pipeline);
  const upsert = prepare(
    `INSERT INTO source_files (pipeline, key, size, version, modified_at, status, sequence, run_id, reason, recorded_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (pipeline, key) DO UPDATE SET size = excluded.size, version = excluded.version,
         modified_at = excluded.modified_at, status = excluded.status, sequence = excluded.sequence,
         run_id = excluded.run_id, reason = excluded.reason, recorded_at = excluded.recorded_at`,
  );
  for (const file of files) {
    upsert.run(
      entry.pipeline,
      file.key,
      file.size,
      file.version,
      file.modifiedAt,
      file.status,
      entry.sequence,
      entry.runId,
      file.reason,
      entry.at,
    );
  }
}

export function listSourceFiles(
  prepare: Prepare,
  pipeline: string,
  filter: SourceFileFilter,
): SourceFileRecord[] {
  const where = ['pipeline = ?'];
  const params: unknown[] = [pipeline];
  if (filter.status !== undefined) {
    where.push('status = ?');
    params.push(filter.status);
  }
  if (filter.after !== undefined) {
    where.push('key > ?');
    params.push(filter.after);
  }
  if (filter.text !== undefined) {
    where.push('etl_file_text(?, key, reason) = 1');
    params.push(filter.text);
  }
  const sql = `SELECT * FROM source_files WHERE ${where.join(' AND ')} ORDER BY key LIMIT ?`;
  return (prepare(sql).all(...params, filter.limit) as Row[]).map(toSourceFile);
}

export function sourceFileTotals(prepare: Prepare, pipeline: string): SourceFileTotals {
  const row = prepare(
    `SELECT coalesce(sum(status = 'loaded'), 0) AS loaded, coalesce(sum(status = 'quarantined'), 0) AS quarantined,
            coalesce(sum(CASE WHEN status = 'loaded' THEN size ELSE 0 END), 0) AS loaded_bytes,
            max(recorded_at) AS last_recorded_at
       FROM source_files WHERE pipeline = ?`,
  ).get(pipeline) as Row;
  return {
    loaded: row.loaded as number,
    quarantined: row.quarantined as number,
    loadedBytes: row.loaded_bytes as number,
    lastRecordedAt: (row.last_recorded_at as string | null) ?? null,
  };
}

/** Removes entries; the caller holds the transaction, so a forget of many batches is all or nothing. */
export function forgetSourceFiles(prepare: Prepare, pipeline: string, keys?: readonly string[]): number {
  if (keys === undefined) return prepare('DELETE FROM source_files WHERE pipeline = ?').run(pipeline).changes;
  const statement = prepare(
    'DELETE FROM source_files WHERE pipeline = ? AND key IN (SELECT value FROM json_each(?))',
  );
  let removed = 0;
  for (const batch of batches(keys)) removed += statement.run(pipeline, JSON.stringify(batch)).changes;
  return removed;
}
