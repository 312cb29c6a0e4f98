/**
 * Fault 3, state-store write failure: SQLite triggers on the tables that hold watermarks and the
 * committed sequence make every write to them abort with "chaos: simulated disk full" for one step.
 *
 * Decisions: the triggers are installed with better-sqlite3 while no daemon of this pipeline runs
 * (SQLite would allow it alongside one too) and dropped after the step. Only tables and columns
 * that exist are targeted (`watermarks`: inserts and updates; `pipelines`: updates of
 * `committed_sequence`), so a reshaped store still gets what applies.
 */
import Database from 'better-sqlite3';
import { existsSync } from 'node:fs';

export const STATE_FAULT_MESSAGE = 'chaos: simulated disk full';
const PREFIX = 'chaos_fault_';

function raise(): string {
  return `BEGIN SELECT RAISE(ABORT, '${STATE_FAULT_MESSAGE}'); END`;
}

/** Installs the triggers; returns false when the store does not exist yet (nothing installed). */
export function installStateFault(file: string): boolean {
  if (!existsSync(file)) return false;
  const db = new Database(file, { fileMustExist: true });
  try {
    db.pragma('busy_timeout = 5000');
    const tables = new Set(
      (db.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").all() as { name: string }[]).map(
        (r) => r.name,
      ),
    );
    const statements: string[] = [];
    if (tables.has('watermarks')) {
      statements.push(
        `CREATE TRIGGER IF NOT EXISTS ${PREFIX}wm_insert BEFORE INSERT ON watermarks ${raise()}`,
      );
      statements.push(
        `CREATE TRIGGER IF NOT EXISTS ${PREFIX}wm_update BEFORE UPDATE ON watermarks ${raise()}`,
      );
    }
    if (tables.has('pipelines')) {
      const columns = (db.prepare('PRAGMA table_info(pipelines)').all() as { name: string }[]).map(
        (c) => c.name,
      );
      if (columns.includes('committed_sequence')) {
        statements.push(
          `CREATE TRIGGER IF NOT EXISTS ${PREFIX}seq_update BEFORE UPDATE OF committed_sequence ON pipelines ${raise()}`,
        );
      }
    }
    for (const sql of statements) db.exec(sql);
    return statements.length > 0;
  } finally {
    db.close();
  }
}

export function removeStateFault(file: string): void {
  if (!existsSync(file)) return;
  const db = new Database(file, { fileMustExist: true });
  try {
    db.pragma('busy_timeout = 5000');
    const triggers = db
      .prepare(`SELECT name FROM sqlite_master WHERE type = 'trigger' AND name LIKE '${PREFIX}%'`)
      .all() as { name: string }[];
    for (const { name } of triggers) db.exec(`DROP TRIGGER IF EXISTS "${name}"`);
  } finally {
    db.close();
  }
}
