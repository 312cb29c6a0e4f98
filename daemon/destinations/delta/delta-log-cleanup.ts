/**
 * Metadata cleanup after a checkpoint ([P] §Metadata Cleanup): the log keeps every commit newer
 * than `delta.logRetentionDuration` (default 30 days, like Spark's DeltaConfig) so that time travel
 * within the retention works, and the newest checkpoint at or before the oldest such version with
 * its own JSON, so that version can be rebuilt. Only files of versions below that checkpoint go.
 *
 * The steps, as the protocol gives them: the cutoff is midnight UTC of (now − retention); the
 * cut-off commit is the newest commit not newer than the cutoff; the cut-off checkpoint is the
 * newest complete checkpoint not newer than the cut-off commit; every log file of a lower version
 * (commits, checkpoints, `.crc`, compacted logs that end below it) is deleted. A commit's time is
 * its file's modification time, as Spark and delta-rs use it. `delta.enableExpiredLogCleanup=false`
 * turns cleanup off.
 */
import type { DeltaFiles } from './delta-files.js';
import { parseIntervalMs } from './delta-interval.js';
import type { DeltaSnapshot } from './delta-log-reader.js';
import { LOG_PREFIX } from './delta-log-reader.js';

/** Spark's default `delta.logRetentionDuration`: 30 days. */
const DEFAULT_LOG_RETENTION_MS = 30 * 86_400_000;
const DAY_MS = 86_400_000;

const VERSIONED = /^(\d{20})\.(json|crc|checkpoint\.parquet|checkpoint\.\d{10}\.\d{10}\.parquet)$/;
const COMPACTED = /^(\d{20})\.(\d{20})\.compacted\.json$/;
const MULTIPART = /^\d{20}\.checkpoint\.\d{10}\.(\d{10})\.parquet$/;

export function logRetentionMs(snapshot: DeltaSnapshot): number {
  const text = snapshot.metadata.configuration['delta.logRetentionDuration'];
  return (text === undefined ? undefined : parseIntervalMs(text)) ?? DEFAULT_LOG_RETENTION_MS;
}

/** Deletes the expired log files of the table; returns their keys (none when nothing expired). */
export async function cleanUpLog(files: DeltaFiles, snapshot: DeltaSnapshot, now: number): Promise<string[]> {
  if (snapshot.metadata.configuration['delta.enableExpiredLogCleanup']?.toLowerCase() === 'false') return [];
  const cutoff = Math.floor((now - logRetentionMs(snapshot)) / DAY_MS) * DAY_MS;
  const commitTimes = new Map<number, number>();
  const classic = new Set<number>();
  const parts = new Map<number, { total: number; seen: number }>();
  const names: string[] = [];
  for await (const info of files.store.list(LOG_PREFIX)) {
    const name = info.key.slice(LOG_PREFIX.length);
    if (name.includes('/')) continue;
    names.push(name);
    const versioned = VERSIONED.exec(name);
    if (versioned === null) continue;
    const version = Number(versioned[1]);
    if (versioned[2] === 'json') commitTimes.set(version, info.lastModified.getTime());
    else if (versioned[2] === 'checkpoint.parquet') classic.add(version);
    else if (versioned[2] !== 'crc') {
      const total = Number(MULTIPART.exec(name)?.[1] ?? 0);
      const entry = parts.get(version) ?? { total, seen: 0 };
      entry.seen++;
      parts.set(version, entry);
    }
  }
  let cutOffCommit = -1;
  for (const [version, time] of commitTimes)
    if (time <= cutoff) cutOffCommit = Math.max(cutOffCommit, version);
  if (cutOffCommit < 0) return [];
  const complete = [...classic, ...[...parts].filter(([, p]) => p.seen === p.total).map(([v]) => v)];
  const cutOffCheckpoint = Math.max(-1, ...complete.filter((v) => v <= cutOffCommit));
  if (cutOffCheckpoint <= 0) return [];
  const expired = names.filter((name) => {
    const compacted = COMPACTED.exec(name);
    if (compacted !== null) return Number(compacted[2]) < cutOffCheckpoint;
    const versioned = VERSIONED.exec(name);
    return versioned !== null && Number(versioned[1]) < cutOffCheckpoint;
  });
  // Oldest first: a cleanup cut short leaves a log that still starts at a contiguous version.
  const keys = expired.sort().map((name) => `${LOG_PREFIX}${name}`);
  for (let i = 0; i < keys.length; i += 1000) await files.store.delete(keys.slice(i, i + 1000));
  return keys;
}
