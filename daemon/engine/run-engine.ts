/**
 * The run engine the daemon calls (see engine.ts for the contract). Wiring:
 * `new DefaultRunEngine({ store, governor, lakeDir, tempRoot, logger, resolveConnection, defaultParallelism })`.
 * Sources and destinations come from their registries unless `loadSource` / `createDestination`
 * are given (tests).
 */
import type { ResolvedConnection } from '../config/resolved-connection.js';
import type { SecretEnvironment } from '../config/secrets.js';
import type { ConnectionConfig } from '../../shared/config/common-schema.js';
import type { DatabaseSourceKind, DestinationConfig } from '../../shared/config/pipeline-schema.js';
import { EtlError } from '../../shared/errors.js';
import type { ConnectionTest, Plan, Preview } from '../../shared/protocol.js';
import type { PendingFiles } from '../../shared/protocol-files.js';
import type { Destination, DestinationContext, VacuumOutcome } from '../destinations/destination.js';
import { createDestination } from '../destinations/registry.js';
import type { Logger } from '../logging/logger.js';
import { loadSourceDialect } from '../sources/registry.js';
import type { SourceDialect } from '../sources/source.js';
import type { StateStore } from '../state/store.js';
import { checkBackfill, cursorValues } from './cursor-values.js';
import { settleWithDestination } from './destination-settle.js';
import type { LoadedPipeline } from '../../shared/config/pipeline-files.js';
import type {
  CursorValues,
  FailpointName,
  RunEngine,
  RunOutcome,
  RunRequest,
  SourceGovernor,
} from './engine.js';
import type { BackfillRange } from '../../shared/types.js';
import type { AttemptDeps } from './run-attempt.js';
import { openDestination } from './run-setup.js';
import { NO_CPU_CLOCK, type CpuClock } from './stage-clock.js';
import { duckMemoryLimit, streamsFor } from './run-memory.js';
import { isMultiTable, singleTableOnly } from './table-members.js';
import {
  DEFAULT_BIGQUERY_PRICE_PER_TIB,
  DEFAULT_MEMORY_LIMIT,
  DEFAULT_THREADS,
} from '../../shared/config/daemon-schema.js';

export interface RunEngineOptions {
  readonly store: StateStore;
  readonly governor: SourceGovernor;
  /** Relative destination paths resolve here (`DIR/lake`). */
  readonly lakeDir: string;
  /** Per-run temp directories (spool files, staging DuckDB) are created, and always removed, here. */
  readonly tempRoot: string;
  readonly logger: Logger;
  readonly resolveConnection: (c: ConnectionConfig) => ResolvedConnection;
  /** The daemon's environment for destination secrets (object-store credentials). */
  readonly secrets?: SecretEnvironment;
  /** `parallelism` when the pipeline sets none (daemon settings `defaults.parallelism`). */
  readonly defaultParallelism: number;
  readonly now?: () => Date;
  /**
   * Bytes of DuckDB memory of a run's staging database (`defaults.memory_limit`). DuckDB spills to
   * the run's temp directory beyond it, so a batch of any size loads in bounded memory; it also
   * sets how many parts stream at once (run-memory.ts).
   */
  readonly stagingMemoryBytes?: number;
  /** DuckDB threads of a run's staging database (`defaults.threads`). */
  readonly stagingThreads?: number;
  /** `defaults.bigquery_price_per_tib` (plan's cost estimate of a BigQuery load). */
  readonly bigqueryPricePerTib?: number;
  /** Reads process and main-thread CPU for the per-stage split of each run (main.ts passes the real one). */
  readonly cpuClock?: CpuClock;
  /** Test hook: the chaos harness stops the process at named points of a commit (`ETLD_FAILPOINTS`). */
  readonly failpoint?: (name: FailpointName) => void;
  readonly loadSource?: (kind: DatabaseSourceKind) => Promise<SourceDialect>;
  readonly createDestination?: (
    config: DestinationConfig,
    context: DestinationContext,
  ) => Promise<Destination>;
}

export class DefaultRunEngine implements RunEngine {
  readonly #deps: AttemptDeps;

  constructor(options: RunEngineOptions) {
    const memoryBytes = options.stagingMemoryBytes ?? DEFAULT_MEMORY_LIMIT;
    this.#deps = {
      store: options.store,
      governor: options.governor,
      lakeDir: options.lakeDir,
      tempRoot: options.tempRoot,
      logger: options.logger,
      resolveConnection: options.resolveConnection,
      ...(options.secrets === undefined ? {} : { secrets: options.secrets }),
      defaultParallelism: options.defaultParallelism,
      now: options.now ?? ((): Date => new Date()),
      stagingMemoryLimit: duckMemoryLimit(memoryBytes),
      consumerSlots: streamsFor(memoryBytes),
      stagingThreads: options.stagingThreads ?? DEFAULT_THREADS,
      bigqueryPricePerTib: options.bigqueryPricePerTib ?? DEFAULT_BIGQUERY_PRICE_PER_TIB,
      cpuClock: options.cpuClock ?? NO_CPU_CLOCK,
      ...(options.failpoint === undefined ? {} : { failpoint: options.failpoint }),
      loadSource: options.loadSource ?? loadSourceDialect,
      createDestination: options.createDestination ?? createDestination,
    };
  }

  // Attempts, plans and previews stage in DuckDB: imported on first use so an idle daemon never
  // loads the native library (~33 MB resident). Later calls get the module from the import cache.
  async execute(request: RunRequest): Promise<RunOutcome> {
    const { executeAttempt } = await import('./run-attempt.js');
    if (isMultiTable(request.pipeline.config)) {
      const { executeTablesAttempt } = await import('./tables-attempt.js');
      return executeTablesAttempt(this.#deps, request, executeAttempt);
    }
    return executeAttempt(this.#deps, request);
  }

  async plan(pipeline: LoadedPipeline, signal?: AbortSignal): Promise<Plan> {
    if (isMultiTable(pipeline.config)) {
      const [{ planTables }, { planRun }] = await Promise.all([
        import('./table-plans.js'),
        import('./run-preview.js'),
      ]);
      return planTables(this.#deps, pipeline, planRun, signal);
    }
    if (pipeline.config.source.type === 'files') {
      const { planFileRun } = await import('./file-preview.js');
      return planFileRun(this.#deps, pipeline, signal);
    }
    const { planRun } = await import('./run-preview.js');
    return planRun(this.#deps, pipeline, signal);
  }

  // Listing a store needs no DuckDB; still imported on first use, like the plan, so an idle daemon
  // loads no object-store client either.
  async pendingFiles(pipeline: LoadedPipeline, limit: number, signal?: AbortSignal): Promise<PendingFiles> {
    const { pendingFiles } = await import('./file-pending.js');
    return pendingFiles(this.#deps, pipeline, limit, signal);
  }

  async preview(
    pipeline: LoadedPipeline,
    limit: number,
    signal?: AbortSignal,
    table?: string,
  ): Promise<Preview> {
    if (isMultiTable(pipeline.config)) {
      const [{ previewTable }, { previewRun }] = await Promise.all([
        import('./table-plans.js'),
        import('./run-preview.js'),
      ]);
      return previewTable(this.#deps, pipeline, limit, table, previewRun, signal);
    }
    if (pipeline.config.source.type === 'files') {
      const { previewFileRun } = await import('./file-preview.js');
      return previewFileRun(this.#deps, pipeline, limit, signal);
    }
    const { previewRun } = await import('./run-preview.js');
    return previewRun(this.#deps, pipeline, limit, signal);
  }

  async validateAgainstSource(pipeline: LoadedPipeline, signal?: AbortSignal): Promise<string[]> {
    const { validateAgainstSource } = await import('./source-validation.js');
    if (isMultiTable(pipeline.config)) {
      const { validateTables } = await import('./table-plans.js');
      return validateTables(this.#deps, pipeline, validateAgainstSource, signal);
    }
    return validateAgainstSource(this.#deps, pipeline, signal);
  }

  async cursorValues(
    pipeline: LoadedPipeline,
    values: readonly string[],
    signal?: AbortSignal,
  ): Promise<CursorValues> {
    singleTableOnly(pipeline, 'cursor values (watermark set, backfill)');
    return cursorValues(this.#deps, pipeline, values, signal);
  }

  async checkBackfill(
    pipeline: LoadedPipeline,
    range: BackfillRange,
    signal?: AbortSignal,
  ): Promise<BackfillRange> {
    singleTableOnly(pipeline, 'a backfill');
    return checkBackfill(this.#deps, pipeline, range, signal);
  }

  async vacuum(
    pipeline: LoadedPipeline,
    options: { readonly dryRun: boolean; readonly now: Date },
  ): Promise<VacuumOutcome> {
    if (isMultiTable(pipeline.config)) {
      const { vacuumTables } = await import('./table-plans.js');
      return vacuumTables(this.#deps, pipeline, (member) => this.vacuum(member, options));
    }
    const destination = await openDestination(
      pipeline.config,
      this.#deps,
      this.#deps.logger.child({ pipeline: pipeline.name }),
    );
    try {
      if (destination.vacuum === undefined) {
        throw new EtlError(
          'ILLEGAL_STATE',
          `vacuum applies to destinations that keep unreferenced files (Delta); ${pipeline.name} loads into ${pipeline.config.destination.type}, which deletes inside its own transactions`,
        );
      }
      return await destination.vacuum({ dryRun: options.dryRun, now: options.now.getTime() });
    } finally {
      await destination.close();
    }
  }

  async committedInDestination(pipeline: LoadedPipeline, signal?: AbortSignal): Promise<number | null> {
    singleTableOnly(pipeline, 'the destination sequence');
    const destination = await openDestination(
      pipeline.config,
      this.#deps,
      this.#deps.logger.child({ pipeline: pipeline.name }),
    );
    try {
      return (await destination.committedSequence(pipeline.name, signal))?.sequence ?? null;
    } finally {
      await destination.close();
    }
  }

  async reconcile(pipeline: LoadedPipeline, signal?: AbortSignal): Promise<number | null> {
    // Each table of a multi-table pipeline settles with its destination at the start of its next
    // attempt (as every attempt does); its member config needs the source's catalog, not start-up.
    if (isMultiTable(pipeline.config)) return null;
    const logger = this.#deps.logger.child({ pipeline: pipeline.name });
    const destination = await openDestination(pipeline.config, this.#deps, logger);
    try {
      const known = this.#deps.store.getRuntime(pipeline.name).committedSequence;
      const committed = await settleWithDestination(
        { store: this.#deps.store, pipeline },
        destination,
        signal,
      );
      if (committed !== null && committed > known) {
        logger.notice(
          `reconciled: ${destination.label} holds sequence ${committed}, the state store had ${known}; watermarks brought in line`,
        );
      }
      return committed ?? (known > 0 ? known : null);
    } finally {
      await destination.close();
    }
  }

  async testConnections(pipeline: LoadedPipeline, signal?: AbortSignal): Promise<ConnectionTest> {
    const { testConnections } = await import('./connection-test.js');
    if (isMultiTable(pipeline.config)) {
      const { testTables } = await import('./table-plans.js');
      return testTables(this.#deps, pipeline, testConnections, signal);
    }
    return testConnections(this.#deps, pipeline, signal);
  }
}
