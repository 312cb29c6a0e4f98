/**
 * Reading the per-pipeline log files: the last matching lines, rotated (gzipped) generations
 * included, oldest first. The daemon's `logs` method reads with it, and so does `etlctl logs` when
 * the daemon is down, so both print the same lines. Memory is bounded by `lines`: files are streamed
 * newest generation first and only the last `lines` matches of each are kept.
 */
import { createReadStream } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { EtlError } from '../errors.js';
import type { LogLine } from '../protocol.js';
import { runIdMatches } from '../run-ids.js';
import {
  DAEMON_LOG_DIR,
  ERROR_LOG,
  listGenerations,
  listLogDirs,
  OUTPUT_LOG,
  SAFE_LOG_DIR_NAME,
} from './log-files.js';
import { parseJsonLine, toLogLine, type EncodedRecord } from './log-record.js';

export interface LogQuery {
  /** One pipeline (`etld` for daemon lines); all of them when absent. */
  readonly pipeline?: string;
  /** At most this many lines, the newest ones. */
  readonly lines: number;
  /** ISO-8601 time; older lines are skipped. */
  readonly since?: string;
  /** Error and warning lines only (what error.log holds). */
  readonly errorsOnly?: boolean;
  readonly runId?: string;
  /** A regular expression matched against the displayed message (fields included). */
  readonly grep?: string;
}

export type LogMatcher = (encoded: EncodedRecord, line: LogLine) => boolean;

/** The query as a predicate. Throws EtlError USAGE for an invalid `since` or `grep`. */
export function compileLogQuery(query: Omit<LogQuery, 'lines'>): LogMatcher {
  let sinceIso: string | undefined;
  if (query.since !== undefined) {
    const ms = Date.parse(query.since);
    if (!Number.isFinite(ms))
      throw new EtlError('USAGE', `invalid since time "${query.since}": expected ISO-8601`);
    sinceIso = new Date(ms).toISOString();
  }
  let pattern: RegExp | undefined;
  if (query.grep !== undefined) {
    try {
      pattern = new RegExp(query.grep);
    } catch (error) {
      throw new EtlError('USAGE', `invalid grep pattern "${query.grep}": ${(error as Error).message}`);
    }
  }
  const pipeline = query.pipeline === DAEMON_LOG_DIR ? null : query.pipeline;
  return (encoded, line) =>
    (pipeline === undefined ||
      encoded.pipeline === pipeline ||
      (pipeline === null && encoded.pipeline === null)) &&
    (sinceIso === undefined || encoded.ts >= sinceIso) &&
    (!query.errorsOnly || encoded.level === 'error' || encoded.level === 'warning') &&
    (query.runId === undefined || runIdMatches(encoded.run_id, query.runId)) &&
    (pattern === undefined || pattern.test(line.message));
}

/** The files a query reads: for each log directory, its live file and rotated generations. */
export function logFilesFor(logDir: string, query: Pick<LogQuery, 'pipeline' | 'errorsOnly'>): string[] {
  const base = query.errorsOnly ? ERROR_LOG : OUTPUT_LOG;
  return logDirsFor(logDir, query.pipeline).map((dir) => join(logDir, dir, base));
}

function logDirsFor(logDir: string, pipeline: string | undefined): string[] {
  const dirs = pipeline !== undefined ? [pipeline] : listLogDirs(logDir);
  for (const dir of dirs) {
    if (!SAFE_LOG_DIR_NAME.test(dir)) throw new EtlError('USAGE', `invalid pipeline name "${dir}"`);
  }
  return dirs;
}

/** The last `query.lines` matching lines, oldest first. Throws EtlError USAGE for a bad query. */
export async function readLogs(logDir: string, query: LogQuery): Promise<LogLine[]> {
  const matches = compileLogQuery(query);
  if (query.lines <= 0) return [];
  const sinceIso = query.since === undefined ? undefined : new Date(Date.parse(query.since)).toISOString();
  const perDir: LogLine[][] = [];
  for (const live of logFilesFor(logDir, query)) {
    perDir.push(await readFamily(live, query.lines, matches, sinceIso));
  }
  if (perDir.length === 1) return perDir[0] ?? [];
  // Sort is stable, so lines with the same timestamp keep their per-file order.
  const merged = perDir.flat().sort((a, b) => (a.ts < b.ts ? -1 : a.ts > b.ts ? 1 : 0));
  return merged.slice(Math.max(0, merged.length - query.lines));
}

async function readFamily(
  live: string,
  limit: number,
  matches: LogMatcher,
  sinceIso: string | undefined,
): Promise<LogLine[]> {
  const generations = listGenerations(dirname(live), basename(live)).generations;
  const files = [...generations.map((g) => g.path), live];
  const chunks: LogLine[][] = [];
  let collected = 0;
  for (let i = files.length - 1; i >= 0 && collected < limit; i--) {
    const result = await readFile(files[i] as string, limit - collected, matches);
    chunks.unshift(result.lines);
    collected += result.lines.length;
    // Generations are in time order: once a file starts before `since`, older ones cannot match.
    if (sinceIso !== undefined && result.firstTs !== undefined && result.firstTs < sinceIso) break;
  }
  return chunks.flat();
}

async function readFile(
  path: string,
  keep: number,
  matches: LogMatcher,
): Promise<{ lines: LogLine[]; firstTs: string | undefined }> {
  // A ring of the last `keep` matches: Array#shift would make long files quadratic.
  const ring: LogLine[] = [];
  let start = 0;
  let firstTs: string | undefined;
  const stream = await openLogStream(path);
  if (!stream) return { lines: [], firstTs };
  const reader = createInterface({ input: stream, crlfDelay: Infinity });
  try {
    for await (const text of reader) {
      const encoded = parseJsonLine(text);
      if (!encoded) continue;
      firstTs ??= encoded.ts;
      const line = toLogLine(encoded);
      if (!matches(encoded, line)) continue;
      if (ring.length < keep) ring.push(line);
      else {
        ring[start] = line;
        start = (start + 1) % keep;
      }
    }
  } catch {
    // A generation deleted or truncated while being read: keep what was read.
  } finally {
    reader.close();
    stream.destroy();
  }
  return { lines: [...ring.slice(start), ...ring.slice(0, start)], firstTs };
}

/**
 * Opens a plain or gzipped log file; a plain generation that the compressor replaced meanwhile is
 * opened as its `.gz`. Undefined when the file does not exist (any more).
 */
async function openLogStream(path: string): Promise<Readable | undefined> {
  const candidates = path.endsWith('.gz') ? [path] : [path, `${path}.gz`];
  for (const candidate of candidates) {
    const raw = createReadStream(candidate);
    const opened = await new Promise<boolean>((resolve) => {
      raw.once('open', () => resolve(true));
      raw.once('error', () => resolve(false));
    });
    if (!opened) continue;
    if (!candidate.endsWith('.gz')) return raw;
    const gunzip = createGunzip();
    // A corrupt or truncated archive ends the stream instead of throwing out of the reader.
    raw.on('error', () => gunzip.destroy());
    return raw.pipe(gunzip);
  }
  return undefined;
}
