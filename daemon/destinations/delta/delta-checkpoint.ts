/**
 * Classic V1 checkpoints (PROTOCOL.md §Checkpoints): the reconciled state as one Parquet
 * file `<v>.checkpoint.parquet`, written by DuckDB from typed NDJSON so the nested layout (STRUCT,
 * MAP key_value, 3-level lists) matches Spark's, then `_last_checkpoint`.
 */
import type { DuckDBConnection } from '@duckdb/node-api';
import { open, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { checkpointFileName } from './delta-actions.js';
import type { DeltaFiles } from './delta-files.js';
import type { DeltaSnapshot } from './delta-log-reader.js';
import { LOG_PREFIX, logKey } from './delta-log-reader.js';
import { sqlString } from './delta-sql.js';
import { parseIntervalMs } from './delta-interval.js';

/** Spark's default `delta.checkpointInterval` (DeltaConfig.scala). */
const DEFAULT_CHECKPOINT_INTERVAL = 10;
/** Spark's default `delta.deletedFileRetentionDuration`: one week. */
const DEFAULT_TOMBSTONE_RETENTION_MS = 7 * 24 * 3_600_000;

const MAP = 'MAP(VARCHAR, VARCHAR)';

/** Spark's cadence: after version v when v != 0 and v % interval == 0 (TransactionHelper.scala). */
/** DuckDB's own default for read_json's maximum_object_size. */
const MIN_OBJECT_BYTES = 16 * 1024 * 1024;

function checkpointInterval(snapshot: DeltaSnapshot): number {
  const configured = Number(snapshot.metadata.configuration['delta.checkpointInterval']);
  return Number.isInteger(configured) && configured > 0 ? configured : DEFAULT_CHECKPOINT_INTERVAL;
}

export function checkpointDue(snapshot: DeltaSnapshot): boolean {
  return snapshot.version !== 0 && snapshot.version % checkpointInterval(snapshot) === 0;
}

/**
 * After the checkpoint of `snapshot.version` failed: how many due checkpoints in a row the table
 * lacks, this one included, read from the log itself (so the count survives restarts and holds
 * across writers): each earlier due version whose commit is still in the log and which has no
 * checkpoint counts, down to the first that has one. A table also written by an engine with
 * another cadence (delta-rs: every 100 versions) may count versions that engine never meant to
 * checkpoint.
 */
export async function consecutiveCheckpointFailures(
  files: DeltaFiles,
  snapshot: DeltaSnapshot,
): Promise<number> {
  const interval = checkpointInterval(snapshot);
  const commits = new Set<number>();
  const checkpoints = new Set<number>();
  for await (const info of files.store.list(LOG_PREFIX)) {
    const name = info.key.slice(LOG_PREFIX.length);
    const version = Number(name.slice(0, 20));
    if (!/^\d{20}\./.test(name)) continue;
    if (name.endsWith('.checkpoint.parquet') || /\.checkpoint\.\d+\.\d+\.parquet$/.test(name))
      checkpoints.add(version);
    else if (name.endsWith('.json') && name.length === 25) commits.add(version);
  }
  let failures = 1;
  for (let version = snapshot.version - interval; version > 0; version -= interval) {
    if (checkpoints.has(version) || !commits.has(version)) break;
    failures++;
  }
  return failures;
}

export function tombstoneRetentionMs(snapshot: DeltaSnapshot): number {
  const text = snapshot.metadata.configuration['delta.deletedFileRetentionDuration'];
  return (text === undefined ? undefined : parseIntervalMs(text)) ?? DEFAULT_TOMBSTONE_RETENTION_MS;
}

export interface CheckpointResult {
  /** The checkpoint's key in the table's store. */
  readonly file: string;
  readonly actions: number;
  readonly addFiles: number;
  readonly sizeInBytes: number;
}

/** The checkpoint's actions, one JSON line each ([P] §Checkpoints: the reconciled state). */
function* checkpointLines(snapshot: DeltaSnapshot, withFeatures: boolean, expiry: number): Generator<string> {
  const { protocol, metadata } = snapshot;
  yield JSON.stringify({
    protocol: {
      minReaderVersion: protocol.minReaderVersion,
      minWriterVersion: protocol.minWriterVersion,
      ...(withFeatures
        ? {
            readerFeatures: protocol.readerFeatures ?? null,
            writerFeatures: protocol.writerFeatures ?? null,
          }
        : {}),
    },
  });
  yield JSON.stringify({
    metaData: {
      id: metadata.id,
      name: metadata.name ?? null,
      description: metadata.description ?? null,
      format: { provider: metadata.format.provider, options: metadata.format.options },
      schemaString: metadata.schemaString,
      partitionColumns: metadata.partitionColumns,
      configuration: metadata.configuration,
      createdTime: metadata.createdTime ?? null,
    },
  });
  for (const txn of snapshot.txns.values()) {
    yield JSON.stringify({
      txn: { appId: txn.appId, version: txn.version, lastUpdated: txn.lastUpdated ?? null },
    });
  }
  for (const add of snapshot.files.values()) {
    yield JSON.stringify({
      add: {
        path: add.path,
        partitionValues: add.partitionValues,
        size: add.size,
        modificationTime: add.modificationTime,
        dataChange: false,
        stats: add.stats ?? null,
        tags: add.tags ?? null,
      },
    });
  }
  for (const remove of snapshot.tombstones.values()) {
    if ((remove.deletionTimestamp ?? 0) <= expiry) continue;
    yield JSON.stringify({
      remove: {
        path: remove.path,
        deletionTimestamp: remove.deletionTimestamp ?? null,
        dataChange: false,
        extendedFileMetadata: remove.extendedFileMetadata ?? null,
        partitionValues: remove.partitionValues ?? null,
        size: remove.size ?? null,
      },
    });
  }
  for (const domain of snapshot.domains.values()) yield JSON.stringify({ domainMetadata: domain });
}

/** Bytes gathered before each write of the NDJSON file. */
const WRITE_CHUNK_BYTES = 1024 * 1024;

/**
 * Writes the lines to `path` in chunks, never as one string: a table of a few hundred thousand
 * files with stats is more text than a JavaScript string may hold. Returns the line count and the
 * longest line in bytes.
 */
async function writeLines(
  path: string,
  lines: Iterable<string>,
): Promise<{ count: number; longest: number }> {
  const handle = await open(path, 'w');
  let count = 0;
  let longest = 0;
  try {
    let chunk: string[] = [];
    let chunkBytes = 0;
    for (const line of lines) {
      const bytes = Buffer.byteLength(line) + 1;
      count++;
      longest = Math.max(longest, bytes);
      chunk.push(line);
      chunkBytes += bytes;
      if (chunkBytes >= WRITE_CHUNK_BYTES) {
        await handle.write(chunk.join('\n') + '\n');
        chunk = [];
        chunkBytes = 0;
      }
    }
    if (chunk.length > 0) await handle.write(chunk.join('\n') + '\n');
  } finally {
    await handle.close();
  }
  return { count, longest };
}

/**
 * Rows per Parquet row group of a checkpoint. DuckDB's writer holds a row group in memory until it
 * is full; `add` rows carry their stats JSON (often kilobytes), so DuckDB's default of 122,880 rows
 * could need hundreds of MB, more than the destination's DuckDB budget.
 */
const CHECKPOINT_ROW_GROUP_ROWS = 16_384;

/** Writes the checkpoint of `snapshot` and then `_last_checkpoint`. */
export async function writeCheckpoint(
  files: DeltaFiles,
  snapshot: DeltaSnapshot,
  connection: DuckDBConnection,
  now: number,
): Promise<CheckpointResult> {
  const withFeatures =
    snapshot.protocol.readerFeatures !== undefined || snapshot.protocol.writerFeatures !== undefined;
  const expiry = now - tombstoneRetentionMs(snapshot);

  const columns: Record<string, string> = {
    txn: 'STRUCT(appId VARCHAR, version BIGINT, lastUpdated BIGINT)',
    add: `STRUCT(path VARCHAR, partitionValues ${MAP}, size BIGINT, modificationTime BIGINT, dataChange BOOLEAN, stats VARCHAR, tags ${MAP})`,
    remove: `STRUCT(path VARCHAR, deletionTimestamp BIGINT, dataChange BOOLEAN, extendedFileMetadata BOOLEAN, partitionValues ${MAP}, size BIGINT)`,
    metaData: `STRUCT(id VARCHAR, name VARCHAR, description VARCHAR, format STRUCT(provider VARCHAR, options ${MAP}), schemaString VARCHAR, partitionColumns VARCHAR[], configuration ${MAP}, createdTime BIGINT)`,
    protocol: withFeatures
      ? 'STRUCT(minReaderVersion INTEGER, minWriterVersion INTEGER, readerFeatures VARCHAR[], writerFeatures VARCHAR[])'
      : 'STRUCT(minReaderVersion INTEGER, minWriterVersion INTEGER)',
  };
  if (snapshot.domains.size > 0)
    columns.domainMetadata = 'STRUCT(domain VARCHAR, configuration VARCHAR, removed BOOLEAN)';
  const spec = `{${Object.entries(columns)
    .map(([name, type]) => `${name}: ${sqlString(type)}`)
    .join(', ')}}`;

  const staging = await files.stagingDir();
  const source = join(staging, 'checkpoint.json');
  const target = join(staging, 'checkpoint.parquet');
  const final = logKey(checkpointFileName(snapshot.version));
  let sizeInBytes: number;
  let actions: number;
  try {
    const written = await writeLines(source, checkpointLines(snapshot, withFeatures, expiry));
    actions = written.count;
    // One line is one action; DuckDB sizes its read buffer from the largest object it accepts
    // (twice that, allocated up front), which must fit the destination's small memory budget.
    const maximumObjectSize = Math.max(MIN_OBJECT_BYTES, written.longest + 1);
    await connection.run(
      `COPY (SELECT ${Object.keys(columns).join(', ')} FROM read_json(${sqlString(source)}, format = 'newline_delimited', columns = ${spec}, maximum_object_size = ${maximumObjectSize})) ` +
        `TO ${sqlString(target)} (FORMAT parquet, COMPRESSION snappy, ROW_GROUP_SIZE ${CHECKPOINT_ROW_GROUP_ROWS})`,
    );
    sizeInBytes = (await stat(target)).size;
    // Last writer wins is fine: every checkpoint of one version has the same content ([P] §Checkpoints).
    await files.place(target, final);
    await files.flush([final]);
  } finally {
    await rm(staging, { recursive: true, force: true });
  }
  const hint = {
    version: snapshot.version,
    size: actions,
    sizeInBytes,
    numOfAddFiles: snapshot.files.size,
  };
  await files.store.put(logKey('_last_checkpoint'), JSON.stringify(hint));
  return { file: final, actions, addFiles: snapshot.files.size, sizeInBytes };
}
