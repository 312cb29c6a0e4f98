/**
 * The pipeline files a state store records (which file keeps a name several files claim), read
 * without opening the store for writing: `etld --check-config` runs beside a live daemon and must
 * neither migrate nor lock its store.
 */
import Database from 'better-sqlite3';
import { existsSync } from 'node:fs';

export function readRecordedPipelineFiles(path: string): Map<string, string> {
  if (!existsSync(path)) return new Map();
  try {
    const db = new Database(path, { readonly: true, fileMustExist: true });
    try {
      db.pragma('busy_timeout = 5000');
      const rows = db.prepare('SELECT name, file FROM pipelines WHERE file IS NOT NULL').all() as {
        name: string;
        file: string;
      }[];
      return new Map(rows.map((r) => [r.name, r.file]));
    } finally {
      db.close();
    }
  } catch {
    // A store from before etld recorded files (no column) records none: the check then applies
    // the first-start rule, and its message says so.
    return new Map();
  }
}
