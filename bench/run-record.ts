/**
 * Reads what etld recorded about its newest run of a pipeline from the state store
 * (`<home>/state/etld.db`, SQLite; daemon/compose.ts), opened read-only after the run's process
 * has exited: the status and rows loaded (to check the run), and `stages_json`, the engine's
 * per-stage CPU seconds. That column is new; on a store without it, or a run without a value,
 * the stages are null and the report prints "—".
 */
import Database from 'better-sqlite3';
import { join } from 'node:path';

// The engine's stages (daemon/engine/stage-clock.ts): parsing, transforms and encoding run fused in one
// DuckDB statement per part and are measured together as `load`.
export const STAGES = ['prepare', 'extract', 'load', 'settle', 'commit'] as const;
export type Stage = (typeof STAGES)[number];
export type Stages = Partial<Record<Stage, number>>;

export interface RunRecord {
  readonly status: string;
  readonly rowsLoaded: number;
  /** Null when the column does not exist or holds nothing usable. */
  readonly stages: Stages | null;
}

export function stateStorePath(home: string): string {
  return join(home, 'state', 'etld.db');
}

/** The newest run of `pipeline`, or undefined when the store or the run does not exist. */
export function readNewestRun(home: string, pipeline: string): RunRecord | undefined {
  let db: Database.Database;
  try {
    db = new Database(stateStorePath(home), { readonly: true, fileMustExist: true });
  } catch {
    return undefined;
  }
  try {
    const columns = db.prepare<[], { name: string }>('PRAGMA table_info(runs)').all();
    const hasStages = columns.some((c) => c.name === 'stages_json');
    const row = db
      .prepare<[string], { status: string; rows_loaded: number; stages_json: string | null }>(
        `SELECT status, rows_loaded, ${hasStages ? 'stages_json' : 'NULL AS stages_json'}
         FROM runs WHERE pipeline = ? ORDER BY created_at DESC, sequence DESC, attempt DESC LIMIT 1`,
      )
      .get(pipeline);
    if (row === undefined) return undefined;
    return { status: row.status, rowsLoaded: row.rows_loaded, stages: parseStages(row.stages_json) };
  } finally {
    db.close();
  }
}

/** Keeps the known stages whose value is a finite number; anything else counts as missing. */
function parseStages(json: string | null): Stages | null {
  if (json === null) return null;
  let value: unknown;
  try {
    value = JSON.parse(json);
  } catch {
    return null;
  }
  if (typeof value !== 'object' || value === null) return null;
  const stages: Stages = {};
  for (const stage of STAGES) {
    const seconds: unknown = (value as Record<string, unknown>)[stage];
    if (typeof seconds === 'number' && Number.isFinite(seconds)) stages[stage] = seconds;
  }
  return stages;
}
