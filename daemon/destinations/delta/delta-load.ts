/**
 * One load into a Delta table (see destination.ts): every part's rows become data files in the
 * table directory as they stream out of the run's staging DuckDB; none is referenced by the log
 * until `commit` writes one version with all of them, the run's `txn`, and (full mode) the removes
 * of every file the table held. `abort` deletes the files written so far.
 */
import type { DuckDBConnection } from '@duckdb/node-api';
import { randomUUID } from 'node:crypto';
import { cancelledError, EtlError } from '../../../shared/errors.js';
import type { Logger } from '../../logging/logger.js';
import type { BatchPart, CommitResult, DestinationLoad, LoadRequest } from '../destination.js';
import type { AddAction, DeltaAction, MetadataAction, ProtocolAction } from './delta-actions.js';
import { fileKey, removeFor } from './delta-actions.js';
import { checkpointDue, writeCheckpoint } from './delta-checkpoint.js';
import { isColumnMapped, physicalName } from './delta-column-mapping.js';
import type { PreparedCommit } from './delta-commit.js';
import { commitWithRetries } from './delta-commit.js';
import type { DataFileOptions } from './delta-data-writer.js';
import { removeDataFiles, writeDataFiles } from './delta-data-writer.js';
import { checkTableFeatures } from './delta-features.js';
import { fsyncFilesAndDirectories } from './delta-fsync.js';
import type { DeltaSnapshot } from './delta-log-reader.js';
import { mergeFiles } from './delta-merge.js';
import { writePartitionedFiles } from './delta-partitions.js';
import { dataFilePath } from './delta-paths.js';
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
 * writer 5, or `columnMapping` in both feature lists of a table-features protocol.
 */
export function protocolFor(
  current: ProtocolAction | undefined,
  schema: SchemaPlan['schema'],
  columnMapping = false,
): ProtocolAction | undefined {
  const ntz = schemaNeedsTimestampNtz(schema);
  const needed = [...(columnMapping ? ['columnMapping'] : []), ...(ntz ? ['timestampNtz'] : [])];
  if (current === undefined) {
    // Spark counts NOT NULL columns as the `invariants` feature (Invariants.getFromSchema) and refuses
    // a 3/7 table whose metadata uses a feature its protocol does not list.
    const invariants = schema.fields.some((f) => !f.nullable) ? ['invariants'] : [];
    if (ntz)
      return {
        minReaderVersion: 3,
        minWriterVersion: 7,
        readerFeatures: needed,
        writerFeatures: [...invariants, ...needed],
      };
    return columnMapping
      ? { minReaderVersion: 2, minWriterVersion: 5 }
      : { minReaderVersion: 1, minWriterVersion: 2 };
  }
  if (needed.length === 0) return undefined;
  const add = (list: readonly string[]): string[] => [...list, ...needed.filter((f) => !list.includes(f))];
  if (current.minReaderVersion >= 3 && current.minWriterVersion >= 7) {
    const reader = current.readerFeatures ?? [];
    const writer = current.writerFeatures ?? [];
    if (needed.every((f) => reader.includes(f) && writer.includes(f))) return undefined;
    return { ...current, readerFeatures: add(reader), writerFeatures: add(writer) };
  }
  if (!ntz) {
    // Column mapping alone: the legacy versions that imply it (a writer-features table lists it).
    if (current.minWriterVersion >= 7) {
      const writer = current.writerFeatures ?? [];
      if (current.minReaderVersion >= 2 && writer.includes('columnMapping')) return undefined;
      return {
        ...current,
        minReaderVersion: Math.max(current.minReaderVersion, 2),
        writerFeatures: add(writer),
      };
    }
    if (current.minReaderVersion >= 2 && current.minWriterVersion >= 5) return undefined;
    return {
      minReaderVersion: Math.max(current.minReaderVersion, 2),
      minWriterVersion: Math.max(current.minWriterVersion, 5),
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
    readerFeatures: add(readerImplied),
    writerFeatures: add(implied),
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
  readonly tablePath: string;
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
      tablePath: plan.tablePath,
      schema: plan.schema,
      configuration: (plan.metadata ?? plan.snapshot?.metadata)?.configuration ?? {},
      ...(plan.targetFileBytes === undefined ? {} : { targetFileBytes: plan.targetFileBytes }),
    };
    this.readBack =
      plan.partitionColumns.length === 0 && plan.request.mode !== 'merge'
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
    const { tablePath, request, schema } = this.#plan;
    // A column-mapped table's files name columns by physical name.
    const mapped = isColumnMapped(this.#options.configuration);
    const fileName = (name: string): string => {
      const field = schema.fields.find((f) => f.name.toLowerCase() === name.toLowerCase());
      return field === undefined ? name : physicalName(field, mapped);
    };
    const columns = request.columns.map((c) => `${sqlIdent(fileName(c.name))} AS ${sqlIdent(c.name)}`);
    const files = adds.map((a) => sqlString(dataFilePath(tablePath, a.path)));
    return `SELECT ${columns.join(', ')} FROM read_parquet([${files.join(', ')}])`;
  }

  async writePart(part: BatchPart): Promise<number> {
    const { request, projection } = this.#plan;
    if (request.signal.aborted) throw cancelledError(`the load into Delta table ${this.#plan.tablePath}`);
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
        tag: randomUUID().replaceAll('-', ''),
      });
      adds = merged.adds;
      this.#replaced.push(...merged.replaced);
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
    const { request, tablePath: table, snapshot, connection } = this.#plan;
    const { pipeline, mode, signal } = request;
    const adds = this.#adds;
    await fsyncFilesAndDirectories(
      table,
      adds.map((a) => dataFilePath(table, a.path)),
    );
    await this.#plan.onFilesWritten?.(adds.map((a) => a.path));
    // A cancelled run stops here; the attempt's abort removes its files.
    if (signal.aborted) throw cancelledError(`the load into Delta table ${table}`, 'nothing was committed');
    // From here a version referencing these files may exist even if this call fails: they stay.
    this.#committing = true;
    const result = await commitWithRetries({
      tablePath: table,
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
    if (checkpointDue(result.snapshot)) {
      try {
        await writeCheckpoint(result.snapshot, connection, this.#plan.now());
        details.checkpoint = result.version;
      } catch (cause) {
        // The commit stands; readers replay the JSON and the next due version tries again.
        this.#plan.logger.warning(
          `checkpoint ${result.version} of Delta table ${table} failed: ${(cause as Error).message}`,
          { pipeline },
        );
      }
    }
    return { rowsLoaded: this.#rows, alreadyCommitted: false, details };
  }

  /** The commit against `current`, the newest snapshot (again after every lost race). */
  #build(current: DeltaSnapshot | undefined): PreparedCommit | { kind: 'already-committed' } {
    const { request, tablePath: table, snapshot } = this.#plan;
    const { pipeline, sequence, mode } = request;
    if ((current?.txns.get(pipeline)?.version ?? -1) >= sequence) return { kind: 'already-committed' };
    if (snapshot === undefined && current !== undefined) throw conflict(table, 'created the table');
    if (snapshot !== undefined && current !== undefined && current !== snapshot) {
      checkTableFeatures(current.protocol, current.metadata, current.schema, current.files.values(), table);
      if (JSON.stringify(current.protocol) !== JSON.stringify(snapshot.protocol))
        throw conflict(table, 'changed the protocol');
      if (JSON.stringify(current.metadata) !== JSON.stringify(snapshot.metadata))
        throw conflict(table, 'changed the metadata');
      if (mode === 'merge' && !sameFiles(snapshot, current))
        throw conflict(table, 'changed the files this merge read');
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
      },
      isBlindAppend: mode === 'incremental',
    };
  }

  async abort(): Promise<void> {
    if (this.#committing) return;
    await this.#remove(this.#adds.splice(0));
  }

  async #remove(files: readonly AddAction[]): Promise<void> {
    await removeDataFiles(this.#plan.tablePath, files).catch((error: unknown) =>
      this.#plan.logger.warning(
        `removing uncommitted files of Delta table ${this.#plan.tablePath}: ${String(error)}`,
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
