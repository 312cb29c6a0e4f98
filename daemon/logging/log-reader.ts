/**
 * The daemon side of `etlctl logs`: the last matching lines from the per-pipeline files, rotated
 * (gzipped) generations included, oldest first; and a filter with the same options for the live
 * records a following client receives. Memory is bounded by `lines`: files are streamed newest
 * generation first and only the last `lines` matches of each are kept.
 */
import { createReadStream, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { runIdMatches } from '../../shared/run-ids.js';
import { EtlError } from '../../shared/errors.js';
import type { LogLine } from '../../shared/protocol.js';
import type { LogRecord } from './logger.js';
import { encodeRecord, parseJsonLine, toLogLine, type EncodedRecord } from './log-codec.js';
import { DAEMON_LOG_DIR, ERROR_LOG, OUTPUT_LOG } from './pipeline-file-sink.js';
import { scanGenerations } from './rotating-file.js';

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

type Matcher = (encoded: EncodedRecord, line: LogLine) => boolean;

function compile(query: LogQuery): Matcher {
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

/**
 * For `logs -f`: turns a live record into the client's LogLine when it matches the query, else
 * undefined. Throws EtlError USAGE for an invalid `since` or `grep` (check before subscribing).
 */
export function createLogFilter(query: Omit<LogQuery, 'lines'>): (record: LogRecord) => LogLine | undefined {
  const matches = compile({ ...query, lines: 0 });
  return (record) => {
    const encoded = encodeRecord(record);
    const line = toLogLine(encoded);
    return matches(encoded, line) ? line : undefined;
  };
}

/** The last `query.lines` matching lines, oldest first. Throws EtlError USAGE for a bad query. */
export async function readLogs(logDir: string, query: LogQuery): Promise<LogLine[]> {
  const matches = compile(query);
  if (query.lines <= 0) return [];
  const base = query.errorsOnly ? ERROR_LOG : OUTPUT_LOG;
  const dirs = query.pipeline !== undefined ? [query.pipeline] : listLogDirs(logDir);
  const sinceIso = query.since === undefined ? undefined : new Date(Date.parse(query.since)).toISOString();
  const perDir: LogLine[][] = [];
  for (const dir of dirs) {
    if (!/^[A-Za-z0-9_-]{1,200}$/.test(dir)) throw new EtlError('USAGE', `invalid pipeline name "${dir}"`);
    perDir.push(await readFamily(join(logDir, dir), base, query.lines, matches, sinceIso));
  }
  if (perDir.length === 1) return perDir[0] ?? [];
  // Sort is stable, so lines with the same timestamp keep their per-file order.
  const merged = perDir.flat().sort((a, b) => (a.ts < b.ts ? -1 : a.ts > b.ts ? 1 : 0));
  return merged.slice(Math.max(0, merged.length - query.lines));
}

function listLogDirs(logDir: string): string[] {
  try {
    return readdirSync(logDir, { withFileTypes: true })
      .filter((entry) => entry.isDirectory())
      .map((entry) => entry.name)
      .sort();
  } catch {
    return [];
  }
}

async function readFamily(
  dir: string,
  base: string,
  limit: number,
  matches: Matcher,
  sinceIso: string | undefined,
): Promise<LogLine[]> {
  const files = [...scanGenerations(dir, base, false).map((g) => g.path), join(dir, base)];
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
  matches: Matcher,
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
