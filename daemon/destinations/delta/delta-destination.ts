/**
 * The Delta Lake destination: Parquet data files from DuckDB, the `_delta_log` written by etld
 * (notes: /shared/notes/delta-writer.md). Every commit carries `txn {appId: pipeline, version:
 * run sequence}`, so each mode is exactly-once: a sequence already in the table is skipped.
 *
 * One writer per table unless every other writer also commits with put-if-absent (delta-rs, etld);
 * Spark's local log store only guards writers inside its own JVM.
 */
import type { DuckDBConnection, DuckDBInstance } from '@duckdb/node-api';
import { randomUUID } from 'node:crypto';
import { mkdir } from 'node:fs/promises';
import { EtlError } from '../../../shared/errors.js';
import type { ColumnSchema } from '../../../shared/types.js';
import type { Logger } from '../../logging/logger.js';
import type {
  CommitRequest,
  CommitResult,
  CommittedSequence,
  Destination,
  DestinationDialect,
  SchemaChange,
} from '../destination.js';
import type { AddAction, DeltaAction, MetadataAction, ProtocolAction } from './delta-actions.js';
import { removeFor } from './delta-actions.js';
import { checkpointDue, writeCheckpoint } from './delta-checkpoint.js';
import type { PreparedCommit } from './delta-commit.js';
import { commitWithRetries } from './delta-commit.js';
import { checkNotNull, projectIncoming, writeDataFile } from './delta-data-writer.js';
import { checkTableFeatures, isAppendOnly } from './delta-features.js';
import type { CheckpointReader, DeltaSnapshot } from './delta-log-reader.js';
import { logDir, readSnapshot } from './delta-log-reader.js';
import { fsyncFilesAndDirectories } from './delta-fsync.js';
import { mergeFiles } from './delta-merge.js';
import { partitionFields, writePartitionedFiles } from './delta-partitions.js';
import { dataFilePath, resolveTablePath } from './delta-paths.js';
import type { SchemaPlan } from './delta-schema.js';
import { planSchemaChange, schemaNeedsTimestampNtz } from './delta-schema.js';

export const ENGINE_INFO = 'etld/0.1.0';

export interface DeltaDestinationOptions {
  readonly tablePath: string;
  readonly logger: Logger;
  readonly now?: () => number;
  readonly maxCommitAttempts?: number;
  /**
   * Called after the data files are written and before the commit: progress reporting, and the
   * point where crash tests kill the process.
   */
  readonly onFilesWritten?: (files: readonly string[]) => Promise<void>;
}

const LEGACY_WRITER_FEATURES = [
  [],
  [],
  ['appendOnly', 'invariants'],
  ['checkConstraints'],
  ['changeDataFeed', 'generatedColumns'],
  ['columnMapping'],
  ['identityColumns'],
];

/** The protocol the table needs after this commit, or undefined when the current one suffices. */
function protocolFor(
  current: ProtocolAction | undefined,
  schema: SchemaPlan['schema'],
): ProtocolAction | undefined {
  const ntz = schemaNeedsTimestampNtz(schema);
  if (current === undefined) {
    // Spark counts NOT NULL columns as the `invariants` feature (Invariants.getFromSchema) and refuses
    // a 3/7 table whose metadata uses a feature its protocol does not list.
    const invariants = schema.fields.some((f) => !f.nullable) ? ['invariants'] : [];
    return ntz
      ? {
          minReaderVersion: 3,
          minWriterVersion: 7,
          readerFeatures: ['timestampNtz'],
          writerFeatures: [...invariants, 'timestampNtz'],
        }
      : { minReaderVersion: 1, minWriterVersion: 2 };
  }
  if (!ntz) return undefined;
  if (current.minReaderVersion >= 3 && current.minWriterVersion >= 7) {
    const reader = current.readerFeatures ?? [];
    const writer = current.writerFeatures ?? [];
    if (reader.includes('timestampNtz') && writer.includes('timestampNtz')) return undefined;
    return {
      ...current,
      readerFeatures: reader.includes('timestampNtz') ? reader : [...reader, 'timestampNtz'],
      writerFeatures: writer.includes('timestampNtz') ? writer : [...writer, 'timestampNtz'],
    };
  }
  // Upgrading a legacy protocol lists the features its versions implied ([P] §Table Features).
  const implied = LEGACY_WRITER_FEATURES.slice(0, current.minWriterVersion + 1).flat();
  const readerImplied = current.minReaderVersion >= 2 ? ['columnMapping'] : [];
  return {
    minReaderVersion: 3,
    minWriterVersion: 7,
    readerFeatures: [...readerImplied, 'timestampNtz'],
    writerFeatures: [...implied, 'timestampNtz'],
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
    {
      retryable: true,
    },
  );
}

export class DeltaDestination implements Destination {
  readonly label: string;
  readonly #tablePath: string;
  readonly #logger: Logger;
  readonly #now: () => number;
  readonly #maxCommitAttempts: number | undefined;
  readonly #onFilesWritten: DeltaDestinationOptions['onFilesWritten'];
  #db: DuckDBInstance | undefined;
  #connection: DuckDBConnection | undefined;

  constructor(options: DeltaDestinationOptions) {
    this.#tablePath = options.tablePath;
    this.#logger = options.logger;
    this.#now = options.now ?? Date.now;
    this.#maxCommitAttempts = options.maxCommitAttempts;
    this.#onFilesWritten = options.onFilesWritten;
    this.label = `delta ${options.tablePath}`;
  }

  get tablePath(): string {
    return this.#tablePath;
  }

  /**
   * A DuckDB of its own, for reading checkpoints outside a commit. Opened (and the library imported)
   * only when a checkpoint is there to read: start-up reconciliation opens every Delta destination,
   * and most tables, or none at all, need no DuckDB for that.
   */
  async #ownConnection(): Promise<DuckDBConnection> {
    if (this.#connection === undefined) {
      const { DuckDBInstance } = await import('@duckdb/node-api');
      this.#db = await DuckDBInstance.create(':memory:');
      this.#connection = await this.#db.connect();
    }
    return this.#connection;
  }

  async #snapshot(reader: CheckpointReader): Promise<DeltaSnapshot | undefined> {
    const snapshot = await readSnapshot(this.#tablePath, reader);
    if (snapshot)
      checkTableFeatures(
        snapshot.protocol,
        snapshot.metadata,
        snapshot.schema,
        snapshot.files.values(),
        this.#tablePath,
      );
    return snapshot;
  }

  async planSchema(
    incoming: readonly ColumnSchema[],
    policy: 'add_columns' | 'strict',
  ): Promise<SchemaChange[]> {
    const snapshot = await this.#snapshot(() => this.#ownConnection());
    return planSchemaChange(snapshot?.schema, incoming, policy, this.#tablePath).changes;
  }

  async committedSequence(pipeline: string): Promise<CommittedSequence | null> {
    const snapshot = await readSnapshot(this.#tablePath, () => this.#ownConnection());
    const version = snapshot?.txns.get(pipeline)?.version;
    return version === undefined ? null : { sequence: version, runId: null };
  }

  async commit(request: CommitRequest): Promise<CommitResult> {
    const { batch, pipeline, sequence, mode, signal } = request;
    const table = this.#tablePath;
    const connection = batch.connection;
    const snapshot = await this.#snapshot(connection);
    if ((snapshot?.txns.get(pipeline)?.version ?? -1) >= sequence) {
      return { rowsLoaded: 0, alreadyCommitted: true, details: { version: snapshot?.version ?? -1 } };
    }
    if (snapshot?.metadata.configuration['delta.setTransactionRetentionDuration'] !== undefined) {
      this.#logger.warning(
        `Delta table ${table} expires txn entries (delta.setTransactionRetentionDuration); exactly-once holds only within that period`,
        {
          pipeline,
        },
      );
    }
    const plan = planSchemaChange(snapshot?.schema, batch.columns, request.schemaEvolution, table);
    if (mode !== 'incremental' && snapshot && isAppendOnly(snapshot.metadata)) {
      throw new EtlError(
        'UNSUPPORTED_TABLE_FEATURE',
        `UnsupportedTableFeature: appendOnly (delta.appendOnly=true) forbids the ${mode} load of Delta table ${table}`,
        {
          retryable: false,
        },
      );
    }
    const keys = mode === 'merge' ? this.#mergeKeys(request.key, plan) : [];
    const partitionColumns = snapshot?.metadata.partitionColumns ?? [];
    if (partitionColumns.length > 0) {
      if (mode === 'merge') {
        throw new EtlError(
          'UNSUPPORTED_TABLE_FEATURE',
          `UnsupportedTableFeature: merge into partitioned Delta table ${table} (partitionColumns ${partitionColumns.join(', ')}); use incremental or full`,
          { retryable: false },
        );
      }
      partitionFields(plan.schema, partitionColumns, table);
    }
    await checkNotNull(connection, plan.schema, batch.relation, batch.columns, table);
    if (signal.aborted)
      throw new EtlError('CANCELLED', `load into Delta table ${table} cancelled before writing`);

    const metadata: MetadataAction | undefined = plan.changed
      ? snapshot
        ? { ...snapshot.metadata, schemaString: JSON.stringify(plan.schema) }
        : {
            id: randomUUID(),
            format: { provider: 'parquet', options: {} },
            schemaString: JSON.stringify(plan.schema),
            partitionColumns: [],
            configuration: {},
            createdTime: this.#now(),
          }
      : undefined;
    const protocol = protocolFor(snapshot?.protocol, plan.schema);
    const options = {
      tablePath: table,
      schema: plan.schema,
      configuration: (metadata ?? snapshot?.metadata)?.configuration ?? {},
    };
    const projection = projectIncoming(plan.schema, batch.columns);

    await mkdir(logDir(table), { recursive: true });
    let adds: AddAction[];
    let replaced: AddAction[] = [];
    let rowsLoaded: number;
    if (mode === 'merge') {
      const merged = await mergeFiles({
        connection,
        snapshot,
        projection,
        relation: batch.relation,
        keys,
        cursor: request.cursor,
        options,
        tag: randomUUID().replaceAll('-', ''),
      });
      adds = merged.adds;
      replaced = merged.replaced;
      rowsLoaded = merged.rowsUpserted;
    } else if (partitionColumns.length > 0) {
      adds = await writePartitionedFiles(
        connection,
        `SELECT ${projection} FROM ${batch.relation}`,
        options,
        partitionColumns,
        randomUUID().replaceAll('-', ''),
      );
      rowsLoaded = batch.rowCount;
    } else {
      const add = await writeDataFile(connection, `SELECT ${projection} FROM ${batch.relation}`, options);
      adds = add ? [add] : [];
      rowsLoaded = batch.rowCount;
    }
    await fsyncFilesAndDirectories(
      table,
      adds.map((a) => dataFilePath(table, a.path)),
    );
    await this.#onFilesWritten?.(adds.map((a) => a.path));
    // A cancelled run stops here: its files are orphans no snapshot references (vacuum removes them).
    if (signal.aborted)
      throw new EtlError('CANCELLED', `load into Delta table ${table} cancelled before its commit`);

    const build = (current: DeltaSnapshot | undefined): PreparedCommit | { kind: 'already-committed' } => {
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
      const now = this.#now();
      // Overwrites recompute their removes from the newest snapshot: files added by a winner are
      // truncated too (serial "append then truncate").
      const removes =
        mode === 'full'
          ? [...(current?.files.values() ?? [])].map((a) => removeFor(a, now))
          : replaced.map((a) => removeFor(a, now));
      const actions: DeltaAction[] = [];
      if (protocol) actions.push({ protocol });
      if (metadata) actions.push({ metaData: metadata });
      actions.push({ txn: { appId: pipeline, version: sequence, lastUpdated: now } });
      for (const add of adds) actions.push({ add });
      for (const remove of removes) actions.push({ remove });
      const bytes = adds.reduce((sum, a) => sum + a.size, 0);
      return {
        kind: 'commit',
        actions,
        operation: mode === 'merge' ? 'MERGE' : 'WRITE',
        operationParameters:
          mode === 'merge'
            ? { predicate: JSON.stringify(keys.map((k) => `target.${k} = source.${k}`)) }
            : {
                mode: mode === 'full' ? 'Overwrite' : 'Append',
                partitionBy: JSON.stringify(partitionColumns),
              },
        operationMetrics: {
          numFiles: String(adds.length),
          numOutputRows: String(rowsLoaded),
          numOutputBytes: String(bytes),
          ...(removes.length > 0 ? { numRemovedFiles: String(removes.length) } : {}),
        },
        isBlindAppend: mode === 'incremental',
      };
    };

    const result = await commitWithRetries({
      tablePath: table,
      snapshot,
      connection,
      build,
      engineInfo: ENGINE_INFO,
      now: this.#now,
      maxAttempts: this.#maxCommitAttempts,
      signal,
    });
    if (result.kind === 'already-committed') {
      return { rowsLoaded: 0, alreadyCommitted: true, details: { version: result.snapshot?.version ?? -1 } };
    }
    const details: Record<string, string | number> = {
      version: result.version,
      files: adds.length,
      bytes: adds.reduce((sum, a) => sum + a.size, 0),
      attempts: result.attempts,
    };
    if (replaced.length > 0 || mode === 'full')
      details.removedFiles = mode === 'full' ? (snapshot?.files.size ?? 0) : replaced.length;
    if (checkpointDue(result.snapshot)) {
      try {
        await writeCheckpoint(result.snapshot, connection, this.#now());
        details.checkpoint = result.version;
      } catch (cause) {
        // The commit stands; readers replay the JSON and the next due version tries again.
        this.#logger.warning(
          `checkpoint ${result.version} of Delta table ${table} failed: ${(cause as Error).message}`,
          { pipeline },
        );
      }
    }
    return { rowsLoaded, alreadyCommitted: false, details };
  }

  #mergeKeys(key: readonly string[] | undefined, plan: SchemaPlan): string[] {
    if (key === undefined || key.length === 0) {
      throw new EtlError('CONFIG_INVALID', `merge into Delta table ${this.#tablePath} needs a key`, {
        retryable: false,
      });
    }
    return key.map((name) => {
      const field = plan.schema.fields.find((f) => f.name.toLowerCase() === name.toLowerCase());
      if (field === undefined) {
        throw new EtlError(
          'SCHEMA_MISMATCH',
          `merge key ${name} is not a column of Delta table ${this.#tablePath}`,
          { retryable: false },
        );
      }
      return field.name;
    });
  }

  close(): Promise<void> {
    this.#connection?.closeSync();
    this.#db?.closeSync();
    this.#connection = undefined;
    this.#db = undefined;
    return Promise.resolve();
  }
}

export const deltaDestination: DestinationDialect<'delta'> = {
  kind: 'delta',
  create(config, context) {
    return new DeltaDestination({
      tablePath: resolveTablePath(config.path, context.lakeDir),
      logger: context.logger,
    });
  },
};
