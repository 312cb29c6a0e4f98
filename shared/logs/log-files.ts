/**
 * Where the daemon's per-pipeline log files are: `<logDir>/<pipeline>/output.log` (every line of
 * the pipeline) and `error.log` (error and warning lines); daemon lines without a pipeline go to
 * `<logDir>/etld/`. Rotated generations are `<base>.NNNNNN`, `.gz` once compressed; numbers only
 * grow, so a higher number is newer. The daemon writes them (daemon/logging/); the daemon's `logs`
 * method and `etlctl logs` with the daemon down read them.
 */
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

export const DAEMON_LOG_DIR = 'etld';
export const OUTPUT_LOG = 'output.log';
export const ERROR_LOG = 'error.log';
/** Pipeline names that may become a directory name (the schema's names all are). */
export const SAFE_LOG_DIR_NAME = /^[A-Za-z0-9_-]{1,200}$/;

export interface LogGeneration {
  readonly path: string;
  readonly seq: number;
  readonly size: number;
  readonly compressed: boolean;
  readonly rotatedAt: number;
}

export interface GenerationScan {
  /** Rotated generations, oldest first. */
  readonly generations: LogGeneration[];
  /**
   * Leftovers of an interrupted compression: a `.tmp`, or the plain file beside its complete `.gz`.
   * Only the writer removes them, at start-up; readers skip them, since the live compressor may be
   * writing one right now.
   */
  readonly leftovers: string[];
}

export function listGenerations(dir: string, base: string): GenerationScan {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return { generations: [], leftovers: [] };
  }
  const pattern = new RegExp(`^${base.replace(/\./g, '\\.')}\\.(\\d+)(\\.gz)?(\\.tmp)?$`);
  const bySeq = new Map<number, LogGeneration>();
  const leftovers: string[] = [];
  for (const name of names) {
    const match = pattern.exec(name);
    if (!match?.[1]) continue;
    const path = join(dir, name);
    if (match[3]) {
      // A compression in progress or interrupted: the uncompressed generation is still there.
      leftovers.push(path);
      continue;
    }
    const seq = Number(match[1]);
    const compressed = match[2] !== undefined;
    const existing = bySeq.get(seq);
    if (existing && existing.compressed !== compressed) {
      // Both `X` and `X.gz`: the compressor renamed but did not unlink yet; the .gz is complete.
      leftovers.push(compressed ? existing.path : path);
      if (!compressed) continue;
    }
    try {
      const stat = statSync(path);
      bySeq.set(seq, { path, seq, size: stat.size, compressed, rotatedAt: stat.mtimeMs });
    } catch {
      // vanished while scanning
    }
  }
  return { generations: [...bySeq.values()].sort((a, b) => a.seq - b.seq), leftovers };
}

/** The log directories under `logDir` (one per pipeline, and `etld`), sorted. */
export function listLogDirs(logDir: string): string[] {
  try {
    return readdirSync(logDir, { withFileTypes: true })
      .filter((entry) => entry.isDirectory())
      .map((entry) => entry.name)
      .sort();
  } catch {
    return [];
  }
}
