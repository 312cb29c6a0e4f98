/**
 * Test harness for the run engine: a real SQLite state store, a per-test lake and temp root, a
 * counting governor, and helpers to run a pipeline once and read the DuckDB destination.
 */
import { mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { resolveConnection } from '../../daemon/config/secrets.js';
import type { LoadedPipeline } from '../../shared/config/pipeline-files.js';
import type { ProgressSnapshot, RunOutcome, SourceGovernor } from '../../daemon/engine/engine.js';
import { DefaultRunEngine, type RunEngineOptions } from '../../daemon/engine/run-engine.js';
import { silentLogger, type Logger } from '../../daemon/logging/logger.js';
import { openStateStore } from '../../daemon/state/sqlite-store.js';
import type { StateStore } from '../../daemon/state/store.js';
import { pipelineSchema } from '../../shared/config/pipeline-schema.js';
import { EtlError } from '../../shared/errors.js';
import type { RunKindSpec, RunTrigger } from '../../shared/types.js';
import type { PostgresServer } from '../helpers/postgres-server.js';

/** Counts slots per host and the highest concurrency seen. */
export class CountingGovernor implements SourceGovernor {
  readonly inUse = new Map<string, number>();
  maxSeen = 0;
  acquires = 0;

  acquire(hostKey: string, signal: AbortSignal): Promise<() => void> {
    if (signal.aborted) return Promise.reject(new Error('aborted'));
    this.acquires++;
    const next = (this.inUse.get(hostKey) ?? 0) + 1;
    this.inUse.set(hostKey, next);
    this.maxSeen = Math.max(this.maxSeen, next);
    let released = false;
    return Promise.resolve(() => {
      if (released) return;
      released = true;
      this.inUse.set(hostKey, (this.inUse.get(hostKey) ?? 1) - 1);
    });
  }
}

export interface Harness {
  readonly dir: string;
  readonly lakeDir: string;
  readonly tempRoot: string;
  readonly store: StateStore;
  readonly governor: CountingGovernor;
  readonly engine: DefaultRunEngine;
  pipeline(config: unknown): LoadedPipeline;
  /** Inserts a run row (new sequence unless given) and executes one attempt. */
  run(
    pipeline: LoadedPipeline,
    options?: {
      sequence?: number;
      attempt?: number;
      signal?: AbortSignal;
      onProgress?: (p: ProgressSnapshot) => void;
      /** Default: a normal run. */
      kind?: RunKindSpec;
      /** The run's logger (default: silent). */
      logger?: Logger;
    },
  ): Promise<RunOutcome & { runId: string; sequence: number }>;
  /** Rows of a query on a DuckDB file under the lake, values as JS. */
  duck(file: string, sql: string): Promise<unknown[][]>;
  tempEntries(): string[];
  destroy(): void;
}

export function createHarness(overrides: Partial<RunEngineOptions> = {}): Harness {
  const dir = mkdtempSync(join(tmpdir(), 'etld-engine-'));
  const lakeDir = join(dir, 'lake');
  const tempRoot = join(dir, 'tmp');
  mkdirSync(tempRoot, { recursive: true });
  const store = openStateStore(join(dir, 'state', 'etld.db'));
  const governor = new CountingGovernor();
  const engine = new DefaultRunEngine({
    store,
    governor,
    lakeDir,
    tempRoot,
    logger: silentLogger,
    resolveConnection: (c) => resolveConnection(c, { env: {} }),
    defaultParallelism: 4,
    ...overrides,
  });
  return {
    dir,
    lakeDir,
    tempRoot,
    store,
    governor,
    engine,
    pipeline(config) {
      const parsed = pipelineSchema.parse(config);
      return { name: parsed.name, file: join(dir, `${parsed.name}.yaml`), config: parsed };
    },
    async run(pipeline, options = {}) {
      const sequence = options.sequence ?? store.nextSequence(pipeline.name);
      const trigger: RunTrigger = 'manual';
      const kind: RunKindSpec = options.kind ?? { kind: 'normal' };
      const row = store.insertRun({
        pipeline: pipeline.name,
        sequence,
        attempt: options.attempt ?? 1,
        trigger,
        kind,
        status: 'running',
      });
      const outcome = await engine.execute({
        pipeline,
        runId: row.id,
        sequence,
        attempt: options.attempt ?? 1,
        trigger,
        kind,
        signal: options.signal ?? new AbortController().signal,
        logger: options.logger ?? silentLogger,
        onProgress: options.onProgress ?? (() => undefined),
      });
      // As the supervisor does, so the store's history is what a daemon's would be.
      store.updateRun(row.id, {
        status: 'succeeded',
        finishedAt: new Date().toISOString(),
        rowsExtracted: outcome.rowsExtracted,
        rowsLoaded: outcome.rowsLoaded,
      });
      return { ...outcome, runId: row.id, sequence };
    },
    async duck(file, sql) {
      const instance = await DuckDBInstance.create(join(lakeDir, file), { access_mode: 'READ_ONLY' });
      const connection = await instance.connect();
      try {
        return (await connection.runAndReadAll(sql)).getRowsJS();
      } finally {
        connection.closeSync();
        instance.closeSync();
      }
    },
    tempEntries() {
      return readdirSync(tempRoot);
    },
    destroy() {
      store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/**
 * Fresh source databases for a test file: each call creates `<prefix><n>` on the file's server
 * (`server` is read when called: files start it in beforeAll) and runs `seed` in it.
 */
/** The EtlError a run of `pipeline` fails with; a run that succeeds, or fails otherwise, is an error. */
export async function runError(
  h: Harness,
  pipeline: ReturnType<Harness['pipeline']>,
  options: Parameters<Harness['run']>[1] = {},
): Promise<EtlError> {
  const error = await h.run(pipeline, options).then(
    () => new Error('the run succeeded'),
    (e: unknown) => e,
  );
  if (!(error instanceof EtlError))
    throw new Error(`expected the run to fail with an EtlError, got ${String(error)}`);
  return error;
}

export function databaseFactory(
  server: () => PostgresServer,
  prefix: string,
): (seed: string) => Promise<string> {
  let count = 0;
  return async (seed) => {
    const name = `${prefix}${++count}`;
    await server().createDatabase(name);
    await server().query(seed, [], name);
    return name;
  };
}

/** A pipeline's `source.connection` for `database` on `server`. */
export function pgConnection(server: PostgresServer, database: string): Record<string, unknown> {
  return { host: server.host, port: server.port, user: server.user, database };
}

/** Rows, distinct ids, min and max id over Parquet `files` of a table (each path relative to it). */
export async function parquetIdSummary(table: string, files: readonly string[]): Promise<number[]> {
  const instance = await DuckDBInstance.create(':memory:');
  const connection = await instance.connect();
  try {
    const list = files.map((f) => `'${join(table, f)}'`).join(', ');
    const reader = await connection.runAndReadAll(
      `SELECT count(*)::INTEGER, count(DISTINCT id)::INTEGER, min(id)::INTEGER, max(id)::INTEGER FROM read_parquet([${list}])`,
    );
    return (reader.getRows()[0] ?? []).map(Number);
  } finally {
    connection.closeSync();
    instance.closeSync();
  }
}
