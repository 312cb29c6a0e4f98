/**
 * The Delta Lake destination: Parquet data files from DuckDB, the `_delta_log` written by etld,
 * every file through the table's ObjectStore (delta-files.ts says how DuckDB gets local paths).
 * `beginLoad` reads the table's snapshot and plans the schema, protocol and metadata; the load
 * (delta-load.ts) places each part's files in the table as they are written, where no reader sees
 * them until the commit adds them. Every commit carries `txn {appId: pipeline, version: run
 * sequence}`, so each mode is exactly-once: a sequence already in the table is skipped.
 *
 * One writer per table unless every other writer also commits with put-if-absent (delta-rs, etld);
 * Spark's local log store only guards writers inside its own JVM.
 */
import type { DuckDBConnection, DuckDBInstance } from '@duckdb/node-api';
import { randomUUID } from 'node:crypto';
import { EtlError } from '../../../shared/errors.js';
import type { ColumnSchema } from '../../../shared/types.js';
import { join } from 'node:path';
import type { Logger } from '../../logging/logger.js';
import type { ObjectStore } from '../../storage/object-store.js';
import type {
  CommittedSequence,
  Destination,
  DestinationDialect,
  DestinationLoad,
  LoadRequest,
  SchemaChange,
  VacuumOutcome,
  VacuumRequest,
} from '../destination.js';
import type { MetadataAction } from './delta-actions.js';
import { isColumnMapped } from './delta-column-mapping.js';
import { projectIncoming } from './delta-data-writer.js';
import { checkTableFeatures, isAppendOnly } from './delta-features.js';
import { DeltaFiles } from './delta-files.js';
import { DeltaLoad, protocolFor } from './delta-load.js';
import type { CheckpointReader, DeltaSnapshot } from './delta-log-reader.js';
import { readSnapshot } from './delta-log-reader.js';
import { partitionFields, planPartitioning } from './delta-partitions.js';
import { openTableStore } from './delta-paths.js';
import type { AccessCheck, AccessCheckRequest } from '../access-check.js';
import { checkDeltaAccess } from './delta-access.js';
import type { SchemaPlan } from './delta-schema.js';
import { planSchemaChange } from './delta-schema.js';

export interface DeltaDestinationOptions {
  /** The table's root; the destination owns it (closed by `close`). */
  readonly store: ObjectStore;
  readonly logger: Logger;
  readonly now?: () => number;
  readonly maxCommitAttempts?: number;
  /**
   * Called after the data files are written and before the commit: progress reporting, and the
   * point where crash tests kill the process.
   */
  readonly onFilesWritten?: (files: readonly string[]) => Promise<void>;
  /** Largest data file before a new one starts (default 128 MiB). */
  readonly targetFileBytes?: number;
  /** `partition_by`: partition columns of a table this destination creates. */
  readonly partitionBy?: readonly string[];
  /** `change_data_feed`: set `delta.enableChangeDataFeed=true` on the table. */
  readonly changeDataFeed?: boolean;
}

const CDF_PROPERTY = 'delta.enableChangeDataFeed';

/** Whether merges must write change data files (PROTOCOL.md §Change Data Feed). */
function changeDataFeedEnabled(metadata: MetadataAction | undefined): boolean {
  return metadata?.configuration[CDF_PROPERTY]?.toLowerCase() === 'true';
}

export class DeltaDestination implements Destination {
  readonly label: string;
  /** A backfill's files are compared with the planned snapshot's at commit (delta-append-missing.ts). */
  readonly appendsMissing = true;
  readonly #store: ObjectStore;
  /** Reads outside a load (planning, reconciliation); downloads, if any, go to a temp dir of its own. */
  readonly #files: DeltaFiles;
  readonly #logger: Logger;
  readonly #now: () => number;
  readonly #maxCommitAttempts: number | undefined;
  readonly #onFilesWritten: DeltaDestinationOptions['onFilesWritten'];
  readonly #targetFileBytes: number | undefined;
  readonly #partitionBy: readonly string[] | undefined;
  readonly #changeDataFeed: boolean;
  #db: DuckDBInstance | undefined;
  #connection: DuckDBConnection | undefined;

  constructor(options: DeltaDestinationOptions) {
    this.#store = options.store;
    this.#files = new DeltaFiles(options.store);
    this.#logger = options.logger;
    this.#now = options.now ?? Date.now;
    this.#maxCommitAttempts = options.maxCommitAttempts;
    this.#onFilesWritten = options.onFilesWritten;
    this.#targetFileBytes = options.targetFileBytes;
    this.#partitionBy = options.partitionBy;
    this.#changeDataFeed = options.changeDataFeed ?? false;
    this.label = `delta ${options.store.displayUrl}`;
  }

  get store(): ObjectStore {
    return this.#store;
  }

  async vacuum(options: VacuumRequest): Promise<VacuumOutcome> {
    // Vacuum reads checkpoints with a DuckDB of its own: loaded on the first vacuum only.
    const { vacuumDeltaTable } = await import('./delta-vacuum.js');
    return vacuumDeltaTable(this.#store, options);
  }

  /**
   * A DuckDB of its own, for reading checkpoints outside a commit. Opened (and the library imported)
   * only when a checkpoint is there to read: start-up reconciliation opens every Delta destination,
   * and most tables, or none at all, need no DuckDB for that.
   */
  async #ownConnection(): Promise<DuckDBConnection> {
    if (this.#connection === undefined) {
      const { DuckDBInstance } = await import('@duckdb/node-api');
      // Log replay and checkpoints only: a small budget (it allocates on use).
      this.#db = await DuckDBInstance.create(':memory:', { memory_limit: '256MB', threads: '1' });
      this.#connection = await this.#db.connect();
    }
    return this.#connection;
  }

  async #snapshot(reader: CheckpointReader): Promise<DeltaSnapshot | undefined> {
    const snapshot = await readSnapshot(this.#files, reader);
    if (snapshot)
      checkTableFeatures(
        snapshot.protocol,
        snapshot.metadata,
        snapshot.schema,
        snapshot.files.values(),
        this.#files.label,
      );
    return snapshot;
  }

  async planSchema(
    incoming: readonly ColumnSchema[],
    policy: 'add_columns' | 'strict',
  ): Promise<SchemaChange[]> {
    const snapshot = await this.#snapshot(() => this.#ownConnection());
    return planSchemaChange(
      snapshot?.schema,
      incoming,
      policy,
      this.#files.label,
      snapshot?.metadata.configuration,
    ).changes;
  }

  async committedSequence(pipeline: string): Promise<CommittedSequence | null> {
    const snapshot = await readSnapshot(this.#files, () => this.#ownConnection());
    const version = snapshot?.txns.get(pipeline)?.version;
    return version === undefined ? null : { sequence: version, runId: null };
  }

  async beginLoad(request: LoadRequest): Promise<DestinationLoad> {
    const { pipeline, mode } = request;
    const table = this.#files.label;
    const connection = await this.#ownConnection();
    const snapshot = await this.#snapshot(connection);
    if (snapshot?.metadata.configuration['delta.setTransactionRetentionDuration'] !== undefined) {
      this.#logger.warning(
        `Delta table ${table} expires txn entries (delta.setTransactionRetentionDuration); exactly-once holds only within that period`,
        { pipeline },
      );
    }
    const plan = planSchemaChange(
      snapshot?.schema,
      request.columns,
      request.schemaEvolution,
      table,
      snapshot?.metadata.configuration,
    );
    if ((mode === 'full' || mode === 'merge') && snapshot && isAppendOnly(snapshot.metadata)) {
      throw new EtlError(
        'UNSUPPORTED_TABLE_FEATURE',
        `UnsupportedTableFeature: appendOnly (delta.appendOnly=true) forbids the ${mode} load of Delta table ${table}`,
      );
    }
    const keys = mode === 'merge' ? this.#mergeKeys(request.key, plan) : [];
    const partitionColumns = planPartitioning(
      snapshot?.metadata.partitionColumns,
      this.#partitionBy,
      request.columns,
      table,
    );
    if (partitionColumns.length > 0) partitionFields(plan.schema, partitionColumns, table);
    // Enabling the change data feed is a metaData change like a new column; disabling is never implied.
    const enableCdf = this.#changeDataFeed && !changeDataFeedEnabled(snapshot?.metadata);
    const base: MetadataAction = snapshot?.metadata ?? {
      id: randomUUID(),
      format: { provider: 'parquet', options: {} },
      schemaString: '',
      partitionColumns,
      configuration: {},
      createdTime: this.#now(),
    };
    // Column mapping (delta-column-mapping.ts) may set the table's mapping configuration.
    const configuration = plan.configuration ?? base.configuration;
    const metadata: MetadataAction | undefined =
      plan.changed || enableCdf
        ? {
            ...base,
            schemaString: JSON.stringify(plan.schema),
            configuration: enableCdf ? { ...configuration, [CDF_PROPERTY]: 'true' } : configuration,
          }
        : undefined;
    const changeDataFeed = changeDataFeedEnabled(metadata ?? snapshot?.metadata);
    const mapped = isColumnMapped((metadata ?? snapshot?.metadata)?.configuration ?? {});
    return new DeltaLoad({
      request,
      files: new DeltaFiles(this.#store, { workDir: join(request.workDir, 'delta') }),
      connection,
      snapshot,
      schema: plan.schema,
      metadata,
      protocol: protocolFor(snapshot?.protocol, plan.schema, { columnMapping: mapped, changeDataFeed }),
      keys,
      partitionColumns,
      changeDataFeed,
      projection: projectIncoming(plan.schema, request.columns, table),
      targetFileBytes: this.#targetFileBytes,
      logger: this.#logger,
      now: this.#now,
      maxCommitAttempts: this.#maxCommitAttempts,
      onFilesWritten: this.#onFilesWritten,
    });
  }

  #mergeKeys(key: readonly string[] | undefined, plan: SchemaPlan): string[] {
    if (key === undefined || key.length === 0) {
      throw new EtlError('CONFIG_INVALID', `merge into Delta table ${this.#files.label} needs a key`);
    }
    return key.map((name) => {
      const field = plan.schema.fields.find((f) => f.name.toLowerCase() === name.toLowerCase());
      if (field === undefined) {
        throw new EtlError(
          'SCHEMA_MISMATCH',
          `merge key ${name} is not a column of Delta table ${this.#files.label}`,
        );
      }
      return field.name;
    });
  }

  async close(): Promise<void> {
    this.#connection?.closeSync();
    this.#db?.closeSync();
    this.#connection = undefined;
    this.#db = undefined;
    await this.#files.dispose();
    await this.#store.close();
  }

  /** `etlctl test`: the snapshot read as a load reads it, its features, the location's permissions. */
  checkAccess(request: AccessCheckRequest): Promise<AccessCheck[]> {
    return checkDeltaAccess(
      {
        // A local table's directory, or the object-store URL (whose write access is not probed).
        tablePath: this.#store.localRoot ?? this.#store.displayUrl,
        readSnapshot: () => readSnapshot(this.#files, () => this.#ownConnection()),
      },
      request,
    );
  }
}

export const deltaDestination: DestinationDialect<'delta'> = {
  kind: 'delta',
  create(config, context) {
    return new DeltaDestination({
      store: openTableStore(config, context),
      logger: context.logger,
      ...(config.target_file_size === undefined ? {} : { targetFileBytes: config.target_file_size }),
      ...(config.partition_by === undefined ? {} : { partitionBy: config.partition_by }),
      ...(config.change_data_feed === undefined ? {} : { changeDataFeed: config.change_data_feed }),
    });
  },
};
