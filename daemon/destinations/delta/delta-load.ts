/**
 * One load into a Delta table (see destination.ts): every part's rows become data files in the
 * table as they stream out of the run's staging DuckDB; none is referenced by the log until
 * `commit` writes one version with all of them, the run's `txn`, and (full mode) the removes of
 * every file the table held. `abort` deletes the files written so far. Either ends the load's
 * local staging and download cache (DeltaFiles).
 */
import type { DuckDBConnection } from '@duckdb/node-api';
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { cancelledError, EtlError } from '../../../shared/errors.js';
import type { Logger } from '../../logging/logger.js';
import type {
  BatchPart,
  CommitResult,
  DestinationLoad,
  LoadRequest,
  MaintenanceFailure,
} from '../destination.js';
import type { AddAction, CdcAction, DeltaAction, MetadataAction, ProtocolAction } from './delta-actions.js';
import { fileKey, removeFor } from './delta-actions.js';
import { checkpointDue, consecutiveCheckpointFailures, writeCheckpoint } from './delta-checkpoint.js';
import { isColumnMapped, physicalName } from './delta-column-mapping.js';
import type { PreparedCommit } from './delta-commit.js';
import { commitWithRetries } from './delta-commit.js';
import type { DataFileOptions } from './delta-data-writer.js';
import { removeDataFiles, writeDataFiles } from './delta-data-writer.js';
import { checkTableFeatures } from './delta-features.js';
import type { DeltaFiles } from './delta-files.js';
import { cleanUpLog } from './delta-log-cleanup.js';
import type { DeltaSnapshot } from './delta-log-reader.js';
import { keepMissingRows } from './delta-append-missing.js';
import { mergeFiles } from './delta-merge.js';
import { writePartitionedFiles } from './delta-partitions.js';
import { dataFileKey } from './delta-paths.js';
import type { SchemaPlan } from './delta-schema.js';
import { schemaNeedsTimestampNtz } from './delta-schema.js';
import { sqlIdent, sqlString } from './delta-sql.js';

export const ENGINE_INFO = 'etld/0.1.0';

const LEGACY_WRITER_FEATURES = [
  [],
  [],
  ['appendOnly', 'invariants'],
  ['checkConstraints'],
  ['changeDataFeed', 'generatedColumns'],
  ['columnMapping'],
  ['identityColumns'],
];

/**
 * The protocol the table needs after this commit, or undefined when the current one suffices.
 * `timestamp_ntz` needs reader 3 / writer 7 with `timestampNtz`; column mapping needs reader 2 /
 * writer 5, or `columnMapping` in both feature lists of a table-features protocol; a change data
 * feed (`delta.enableChangeDataFeed=true`) needs writer 4 or the `changeDataFeed` writer feature
 * (PROTOCOL.md §Change Data Feed).
 */
export function protocolFor(
  current: ProtocolAction | undefined,
  schema: SchemaPlan['schema'],
  needs: { readonly columnMapping?: boolean; readonly changeDataFeed?: boolean } = {},
): ProtocolAction | undefined {
  const ntz = schemaNeedsTimestampNtz(schema);
  const mapping = needs.columnMapping === true;
  const cdf = needs.changeDataFeed === true;
  // Features both readers and writers must know, and the writer-only one.
  const both = [...(mapping ? ['columnMapping'] : []), ...(ntz ? ['timestampNtz'] : [])];
  const writerOnly = cdf ? ['changeDataFeed'] : [];
  const add = (list: readonly string[], extra: readonly string[]): string[] => [
    ...list,
    ...extra.filter((f) => !list.includes(f)),
  ];
  if (current === undefined) {
    // Spark counts NOT NULL columns as the `invariants` feature (Invariants.getFromSchema) and refuses
    // a 3/7 table whose metadata uses a feature its protocol does not list.
    const invariants = schema.fields.some((f) => !f.nullable) ? ['invariants'] : [];
    if (ntz)
      return {
        minReaderVersion: 3,
        minWriterVersion: 7,
        readerFeatures: both,
        writerFeatures: [...invariants, ...writerOnly, ...both],
      };
    // Writer 5 implies writer 4's changeDataFeed.
    if (mapping) return { minReaderVersion: 2, minWriterVersion: 5 };
    return { minReaderVersion: 1, minWriterVersion: cdf ? 4 : 2 };
  }
  if (current.minReaderVersion >= 3 && current.minWriterVersion >= 7) {
    const reader = current.readerFeatures ?? [];
    const writer = current.writerFeatures ?? [];
    const wanted = [...writerOnly, ...both];
    if (both.every((f) => reader.includes(f)) && wanted.every((f) => writer.includes(f))) return undefined;
    return { ...current, readerFeatures: add(reader, both), writerFeatures: add(writer, wanted) };
  }
  if (!ntz) {
    if (current.minWriterVersion >= 7) {
      // Writer features on a legacy reader: the features go into the writer list.
      const writer = current.writerFeatures ?? [];
      const wanted = [...writerOnly, ...(mapping ? ['columnMapping'] : [])];
      const readerOk = !mapping || current.minReaderVersion >= 2;
      if (readerOk && wanted.every((f) => writer.includes(f))) return undefined;
      return {
        ...current,
        minReaderVersion: mapping ? Math.max(current.minReaderVersion, 2) : current.minReaderVersion,
        writerFeatures: add(writer, wanted),
      };
    }
    const readerMin = mapping ? 2 : 1;
    const writerMin = mapping ? 5 : cdf ? 4 : 2;
    if (current.minReaderVersion >= readerMin && current.minWriterVersion >= writerMin) return undefined;
    return {
      ...current,
      minReaderVersion: Math.max(current.minReaderVersion, readerMin),
      minWriterVersion: Math.max(current.minWriterVersion, writerMin),
    };
  }
  // Upgrading a legacy protocol lists the features its versions implied (Delta protocol, Table Features).
  const implied =
    current.minWriterVersion >= 7
      ? (current.writerFeatures ?? [])
      : LEGACY_WRITER_FEATURES.slice(0, current.minWriterVersion + 1).flat();
  const readerImplied = current.minReaderVersion >= 2 ? ['columnMapping'] : [];
  return {
    minReaderVersion: 3,
    minWriterVersion: 7,
    readerFeatures: add(readerImplied, both),
    writerFeatures: add(implied, [...writerOnly, ...both]),
  };
}

function sameFiles(a: DeltaSnapshot, b: DeltaSnapshot): boolean {
  if (a.files.size !== b.files.size) return false;
  for (const key of a.files.keys()) if (!b.files.has(key)) return false;
  return true;
}

function conflict(table: string, what: string): EtlError {
  return new EtlError(
    'DESTINATION_CONFLICT',
    `a concurrent commit to Delta table ${table} ${what}; the run must be planned again`,
    { retryable: true },
  );
}

export interface DeltaLoadPlan {
  readonly request: LoadRequest;
  /** The load's own view of the table's files (staging and cache under the load's work directory). */
  readonly files: DeltaFiles;
  /** The destination's own connection: log reads, the commit, checkpoints. */
  readonly connection: DuckDBConnection;
  /** The table as planned (undefined: the commit creates it). */
  readonly snapshot: DeltaSnapshot | undefined;
  readonly schema: SchemaPlan['schema'];
  readonly metadata: MetadataAction | undefined;
  readonly protocol: ProtocolAction | undefined;
  /** Merge keys as named in the table schema. */
  readonly keys: readonly string[];
  readonly partitionColumns: readonly string[];
  /** The table has `delta.enableChangeDataFeed=true` after this commit: merges write change data files. */
  readonly changeDataFeed: boolean;
  /** SELECT list projecting a part's columns onto the table schema. */
  readonly projection: string;
  readonly targetFileBytes: number | undefined;
  readonly logger: Logger;
  readonly now: () => number;
  readonly maxCommitAttempts: number | undefined;
  readonly onFilesWritten: ((files: readonly string[]) => Promise<void>) | undefined;
}

export class DeltaLoad implements DestinationLoad {
  readonly #plan: DeltaLoadPlan;
  readonly #options: DataFileOptions;
  readonly #adds: AddAction[] = [];
  /** Live files a merge rewrote: removed by the commit. */
  readonly #replaced: AddAction[] = [];
  /** Change data files a merge wrote: committed as `cdc` actions. */
  readonly #cdc: CdcAction[] = [];
  #changes: Record<string, string> = {};
  /** Unpartitioned appends and overwrites: the files each part wrote (see `readBack`). */
  readonly #addsOfPart = new Map<string, AddAction[]>();
  #rows = 0;
  #merged = false;
  #committing = false;
  /**
   * Offered for unpartitioned tables outside a merge, where a part's files hold exactly its rows:
   * a partitioned file leaves its partition values to the log, and a merge rewrites old rows too.
   */
  readonly readBack: ((id: string) => string | null) | undefined;

  constructor(plan: DeltaLoadPlan) {
    this.#plan = plan;
    this.#options = {
      files: plan.files,
      schema: plan.schema,
      configuration: (plan.metadata ?? plan.snapshot?.metadata)?.configuration ?? {},
      ...(plan.targetFileBytes === undefined ? {} : { targetFileBytes: plan.targetFileBytes }),
    };
    // Only where the files are local: a remote table's files left the machine when they were placed.
    this.readBack =
      plan.partitionColumns.length === 0 && plan.request.mode !== 'merge' && plan.files.inPlace
        ? (id) => this.#readBack(id)
        : undefined;
  }

  /**
   * The part's files. A Delta field may differ from the load's column in case only (they are
   * matched ignoring case); DuckDB binds names ignoring case too, and the alias names the column
   * as the load does.
   */
  #readBack(id: string): string | null {
    const adds = this.#addsOfPart.get(id) ?? [];
    if (adds.length === 0) return null;
    const { files: table, request, schema } = this.#plan;
    const root = table.store.localRoot ?? '';
    // A column-mapped table's files name columns by physical name.
    const mapped = isColumnMapped(this.#options.configuration);
    const fileName = (name: string): string => {
      const field = schema.fields.find((f) => f.name.toLowerCase() === name.toLowerCase());
      return field === undefined ? name : physicalName(field, mapped);
    };
    const columns = request.columns.map((c) => `${sqlIdent(fileName(c.name))} AS ${sqlIdent(c.name)}`);
    const files = adds.map((a) => sqlString(join(root, ...dataFileKey(table.store, a.path).split('/'))));
    return `SELECT ${columns.join(', ')} FROM read_parquet([${files.join(', ')}])`;
  }

  async writePart(part: BatchPart): Promise<number> {
    const { request, projection } = this.#plan;
    if (request.signal.aborted) throw cancelledError(`the load into Delta table ${this.#plan.files.label}`);
    let adds: AddAction[];
    let rows: number;
    if (request.mode === 'merge') {
      if (part.table === undefined || this.#merged) {
        throw new EtlError('INTERNAL', 'a Delta merge takes exactly one part over a staged table');
      }
      this.#merged = true;
      const merged = await mergeFiles({
        connection: part.connection,
        snapshot: this.#plan.snapshot,
        projection,
        relation: part.table,
        keys: this.#plan.keys,
        cursor: request.cursor,
        options: this.#options,
        partitionColumns: this.#plan.partitionColumns,
        changeDataFeed: this.#plan.changeDataFeed,
        tag: randomUUID().replaceAll('-', ''),
      });
      adds = merged.adds;
      this.#replaced.push(...merged.replaced);
      this.#cdc.push(...merged.cdc);
      // Spark's MERGE metric names.
      this.#changes = {
        numTargetRowsInserted: String(merged.inserted),
        numTargetRowsUpdated: String(merged.updated),
        numTargetRowsDeleted: String(merged.deleted),
        numTargetChangeFilesAdded: String(merged.cdc.length),
      };
      rows = merged.rowsUpserted;
    } else {
      const select = `SELECT ${projection} FROM (${part.select}) AS part_rows`;
      adds =
        this.#plan.partitionColumns.length > 0
          ? await writePartitionedFiles(
              part.connection,
              select,
              this.#options,
              this.#plan.partitionColumns,
              randomUUID().replaceAll('-', ''),
            )
          : await writeDataFiles(part.connection, select, this.#options);
      rows = adds.reduce((sum, add) => sum + recordsOf(add), 0);
      if (this.readBack !== undefined) this.#addsOfPart.set(part.id, adds);
    }
    this.#adds.push(...adds);
    this.#rows += rows;
    return rows;
  }

  async commit(): Promise<CommitResult> {
    try {
      return await this.#commit();
    } finally {
      await this.#plan.files.dispose();
    }
  }

  async #commit(): Promise<CommitResult> {
    const { request, files, snapshot, connection } = this.#plan;
    const table = files.label;
    const { mode, signal } = request;
    let skipped: number | undefined;
    if (mode === 'append_missing') {
      const kept = await keepMissingRows({
        connection,
        snapshot,
        batch: this.#adds,
        batchRows: this.#rows,
        compare: request.compare ?? [],
        partitionColumns: this.#plan.partitionColumns,
        options: this.#options,
        tag: randomUUID().replaceAll('-', ''),
      });
      this.#adds.splice(0, this.#adds.length, ...kept.adds);
      this.#rows = kept.rowsAppended;
      skipped = kept.rowsSkipped;
    }
    const adds = this.#adds;
    await files.flush([...adds, ...this.#cdc].map((a) => dataFileKey(files.store, a.path)));
    await this.#plan.onFilesWritten?.(adds.map((a) => a.path));
    // A cancelled run stops here; the attempt's abort removes its files.
    if (signal.aborted) throw cancelledError(`the load into Delta table ${table}`, 'nothing was committed');
    // From here a version referencing these files may exist even if this call fails: they stay.
    this.#committing = true;
    const result = await commitWithRetries({
      files,
      snapshot,
      connection,
      build: (current) => this.#build(current),
      engineInfo: ENGINE_INFO,
      now: this.#plan.now,
      maxAttempts: this.#plan.maxCommitAttempts,
      signal,
    });
    if (result.kind === 'already-committed') {
      // Another attempt's commit holds the sequence; it cannot reference this attempt's files.
      const referenced: ReadonlyMap<string, AddAction> = result.snapshot?.files ?? new Map();
      await this.#remove(this.#adds.filter((add) => !referenced.has(fileKey(add))));
      // A cdc file is never in the snapshot: only a commit of this attempt could reference it.
      await this.#remove(this.#cdc);
      return { rowsLoaded: 0, alreadyCommitted: true, details: { version: result.snapshot?.version ?? -1 } };
    }
    const details: Record<string, string | number> = {
      version: result.version,
      files: adds.length,
      bytes: adds.reduce((sum, a) => sum + a.size, 0),
      attempts: result.attempts,
    };
    if (this.#replaced.length > 0 || mode === 'full')
      details.removedFiles = mode === 'full' ? (snapshot?.files.size ?? 0) : this.#replaced.length;
    const maintenanceFailure = checkpointDue(result.snapshot)
      ? await this.#checkpoint(result.snapshot, details)
      : undefined;
    return {
      rowsLoaded: this.#rows,
      alreadyCommitted: false,
      ...(skipped === undefined ? {} : { rowsSkipped: skipped }),
      details,
      ...(maintenanceFailure === undefined ? {} : { maintenanceFailure }),
    };
  }

  /**
   * The checkpoint of the version just committed. A failure is an error of the run, not of the
   * commit, which stands: readers replay the JSON, and the next due version tries again. Without
   * checkpoints, though, every read replays the whole log and the log is never cleaned up, so the
   * failure is reported with how many due checkpoints in a row the table now lacks. After a
   * checkpoint, the log files it made unnecessary beyond the retention go (delta-log-cleanup.ts).
   */
  async #checkpoint(
    snapshot: DeltaSnapshot,
    details: Record<string, string | number>,
  ): Promise<MaintenanceFailure | undefined> {
    const { files, connection, logger, request } = this.#plan;
    try {
      await writeCheckpoint(files, snapshot, connection, this.#plan.now());
      details.checkpoint = snapshot.version;
    } catch (cause) {
      const message = cause instanceof Error ? cause.message : String(cause);
      const consecutiveFailures = await consecutiveCheckpointFailures(files, snapshot).catch(() => 1);
      details.checkpointFailed = snapshot.version;
      logger.error(
        `checkpoint ${snapshot.version} of Delta table ${files.label} failed (${consecutiveFailures} due checkpoint${consecutiveFailures === 1 ? '' : 's'} in a row missing); the commit stands: ${message}`,
        { pipeline: request.pipeline },
      );
      return { table: files.label, task: 'checkpoint', consecutiveFailures, message };
    }
    try {
      const deleted = await cleanUpLog(files, snapshot, this.#plan.now());
      if (deleted.length > 0) details.logFilesExpired = deleted.length;
    } catch (cause) {
      // Nothing is lost: the expired files stay until the next checkpoint's cleanup.
      logger.warning(
        `cleaning up the log of Delta table ${files.label} failed: ${cause instanceof Error ? cause.message : String(cause)}`,
        { pipeline: request.pipeline },
      );
    }
    return undefined;
  }

  /** The commit against `current`, the newest snapshot (again after every lost race). */
  #build(current: DeltaSnapshot | undefined): PreparedCommit | { kind: 'already-committed' } {
    const { request, files, snapshot } = this.#plan;
    const table = files.label;
    const { pipeline, sequence, mode } = request;
    if ((current?.txns.get(pipeline)?.version ?? -1) >= sequence) return { kind: 'already-committed' };
    if (snapshot === undefined && current !== undefined) throw conflict(table, 'created the table');
    if (snapshot !== undefined && current !== undefined && current !== snapshot) {
      checkTableFeatures(current.protocol, current.metadata, current.schema, current.files.values(), table);
      if (JSON.stringify(current.protocol) !== JSON.stringify(snapshot.protocol))
        throw conflict(table, 'changed the protocol');
      if (JSON.stringify(current.metadata) !== JSON.stringify(snapshot.metadata))
        throw conflict(table, 'changed the metadata');
      // A merge and an append of the missing rows both decided from the files they read.
      if ((mode === 'merge' || mode === 'append_missing') && !sameFiles(snapshot, current))
        throw conflict(table, `changed the files this ${mode === 'merge' ? 'merge' : 'backfill'} read`);
    }
    const now = this.#plan.now();
    // Overwrites recompute their removes from the newest snapshot: files added by a winner are
    // truncated too (serial "append then truncate").
    const removes =
      mode === 'full'
        ? [...(current?.files.values() ?? [])].map((a) => removeFor(a, now))
        : this.#replaced.map((a) => removeFor(a, now));
    const actions: DeltaAction[] = [];
    if (this.#plan.protocol) actions.push({ protocol: this.#plan.protocol });
    if (this.#plan.metadata) actions.push({ metaData: this.#plan.metadata });
    actions.push({ txn: { appId: pipeline, version: sequence, lastUpdated: now } });
    for (const add of this.#adds) actions.push({ add });
    for (const remove of removes) actions.push({ remove });
    for (const cdc of this.#cdc) actions.push({ cdc });
    const bytes = this.#adds.reduce((sum, a) => sum + a.size, 0);
    return {
      kind: 'commit',
      actions,
      operation: mode === 'merge' ? 'MERGE' : 'WRITE',
      operationParameters:
        mode === 'merge'
          ? { predicate: JSON.stringify(this.#plan.keys.map((k) => `target.${k} = source.${k}`)) }
          : {
              mode: mode === 'full' ? 'Overwrite' : 'Append',
              partitionBy: JSON.stringify(this.#plan.partitionColumns),
            },
      operationMetrics: {
        numFiles: String(this.#adds.length),
        numOutputRows: String(this.#rows),
        numOutputBytes: String(bytes),
        ...(removes.length > 0 ? { numRemovedFiles: String(removes.length) } : {}),
        ...this.#changes,
      },
      isBlindAppend: mode === 'incremental',
    };
  }

  async abort(): Promise<void> {
    try {
      if (!this.#committing) await this.#remove([...this.#adds.splice(0), ...this.#cdc.splice(0)]);
    } finally {
      await this.#plan.files.dispose().catch(() => undefined);
    }
  }

  async #remove(adds: readonly Pick<AddAction, 'path'>[]): Promise<void> {
    await removeDataFiles(this.#plan.files, adds).catch((error: unknown) =>
      this.#plan.logger.warning(
        `removing uncommitted files of Delta table ${this.#plan.files.label}: ${String(error)}`,
      ),
    );
  }
}

/** The row count a data file's stats record (every file etld writes has stats). */
function recordsOf(add: AddAction): number {
  if (add.stats === undefined || add.stats === null) return 0;
  const parsed = JSON.parse(add.stats) as { numRecords?: number };
  return parsed.numRecords ?? 0;
}
