/**
 * The Delta Lake destination: Parquet data files from DuckDB, the `_delta_log` written by etld.
 * `beginLoad` reads the table's snapshot and plans the schema, protocol and metadata; the load
 * (delta-load.ts) writes each part's files straight into the table directory, where no reader
 * sees them until the commit adds them. Every commit carries `txn {appId: pipeline, version: run
 * sequence}`, so each mode is exactly-once: a sequence already in the table is skipped.
 *
 * One writer per table unless every other writer also commits with put-if-absent (delta-rs, etld);
 * Spark's local log store only guards writers inside its own JVM.
 */
import type { DuckDBConnection, DuckDBInstance } from '@duckdb/node-api';
import { randomUUID } from 'node:crypto';
import { EtlError } from '../../../shared/errors.js';
import type { ColumnSchema } from '../../../shared/types.js';
import type { Logger } from '../../logging/logger.js';
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
import { projectIncoming } from './delta-data-writer.js';
import { checkTableFeatures, isAppendOnly } from './delta-features.js';
import { DeltaLoad, protocolFor } from './delta-load.js';
import type { CheckpointReader, DeltaSnapshot } from './delta-log-reader.js';
import { readSnapshot } from './delta-log-reader.js';
import { partitionFields } from './delta-partitions.js';
import { resolveTablePath } from './delta-paths.js';
import type { AccessCheck, AccessCheckRequest } from '../access-check.js';
import { checkDeltaAccess } from './delta-access.js';
import type { SchemaPlan } from './delta-schema.js';
import { planSchemaChange } from './delta-schema.js';

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
  /** Largest data file before a new one starts (default 128 MiB). */
  readonly targetFileBytes?: number;
}

export class DeltaDestination implements Destination {
  readonly label: string;
  /** A Delta commit adds files written while the parts stream; it cannot compare them with the table first. */
  readonly appendsMissing = true;
  readonly #tablePath: string;
  readonly #logger: Logger;
  readonly #now: () => number;
  readonly #maxCommitAttempts: number | undefined;
  readonly #onFilesWritten: DeltaDestinationOptions['onFilesWritten'];
  readonly #targetFileBytes: number | undefined;
  #db: DuckDBInstance | undefined;
  #connection: DuckDBConnection | undefined;

  constructor(options: DeltaDestinationOptions) {
    this.#tablePath = options.tablePath;
    this.#logger = options.logger;
    this.#now = options.now ?? Date.now;
    this.#maxCommitAttempts = options.maxCommitAttempts;
    this.#onFilesWritten = options.onFilesWritten;
    this.#targetFileBytes = options.targetFileBytes;
    this.label = `delta ${options.tablePath}`;
  }

  get tablePath(): string {
    return this.#tablePath;
  }

  async vacuum(options: VacuumRequest): Promise<VacuumOutcome> {
    // Vacuum reads checkpoints with a DuckDB of its own: loaded on the first vacuum only.
    const { vacuumDeltaTable } = await import('./delta-vacuum.js');
    return vacuumDeltaTable(this.#tablePath, options);
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

  async beginLoad(request: LoadRequest): Promise<DestinationLoad> {
    const { pipeline, mode } = request;
    const table = this.#tablePath;
    const connection = await this.#ownConnection();
    const snapshot = await this.#snapshot(connection);
    if (snapshot?.metadata.configuration['delta.setTransactionRetentionDuration'] !== undefined) {
      this.#logger.warning(
        `Delta table ${table} expires txn entries (delta.setTransactionRetentionDuration); exactly-once holds only within that period`,
        { pipeline },
      );
    }
    const plan = planSchemaChange(snapshot?.schema, request.columns, request.schemaEvolution, table);
    if ((mode === 'full' || mode === 'merge') && snapshot && isAppendOnly(snapshot.metadata)) {
      throw new EtlError(
        'UNSUPPORTED_TABLE_FEATURE',
        `UnsupportedTableFeature: appendOnly (delta.appendOnly=true) forbids the ${mode} load of Delta table ${table}`,
      );
    }
    const keys = mode === 'merge' ? this.#mergeKeys(request.key, plan) : [];
    const partitionColumns = snapshot?.metadata.partitionColumns ?? [];
    if (partitionColumns.length > 0) {
      if (mode === 'merge') {
        throw new EtlError(
          'UNSUPPORTED_TABLE_FEATURE',
          `UnsupportedTableFeature: merge into partitioned Delta table ${table} (partitionColumns ${partitionColumns.join(', ')}); use incremental or full`,
        );
      }
      partitionFields(plan.schema, partitionColumns, table);
    }
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
    return new DeltaLoad({
      request,
      tablePath: table,
      connection,
      snapshot,
      schema: plan.schema,
      metadata,
      protocol: protocolFor(snapshot?.protocol, plan.schema),
      keys,
      partitionColumns,
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
      throw new EtlError('CONFIG_INVALID', `merge into Delta table ${this.#tablePath} needs a key`);
    }
    return key.map((name) => {
      const field = plan.schema.fields.find((f) => f.name.toLowerCase() === name.toLowerCase());
      if (field === undefined) {
        throw new EtlError(
          'SCHEMA_MISMATCH',
          `merge key ${name} is not a column of Delta table ${this.#tablePath}`,
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

  /** `etlctl test`: the snapshot read as a load reads it, its features, the location's permissions. */
  checkAccess(request: AccessCheckRequest): Promise<AccessCheck[]> {
    return checkDeltaAccess(
      {
        tablePath: this.#tablePath,
        readSnapshot: () => readSnapshot(this.#tablePath, () => this.#ownConnection()),
      },
      request,
    );
  }
}

export const deltaDestination: DestinationDialect<'delta'> = {
  kind: 'delta',
  create(config, context) {
    return new DeltaDestination({
      tablePath: resolveTablePath(config.path, context.lakeDir),
      logger: context.logger,
      ...(config.target_file_size === undefined ? {} : { targetFileBytes: config.target_file_size }),
    });
  },
};
