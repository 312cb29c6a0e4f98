/**
 * `plan` and `preview`: what the next run would do and its first transformed rows,
 * writing nothing — no state store rows, no destination file (planSchema only reads).
 * Preview reads the first shard's range unchunked, stops the source query once `limit` records
 * arrived, and runs them through the same staging and transforms in a temp DuckDB. `plan` judges
 * the pipeline's data quality checks on such a sample (CHECK_SAMPLE_ROWS rows), so an operator
 * sees which would fail, and a check that cannot be evaluated, before a run.
 */
import { createWriteStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { CheckResult, Plan, Preview } from '../../shared/protocol.js';
import { EtlError } from '../../shared/errors.js';
import { typeToString, type ColumnSchema } from '../../shared/types.js';
import type { StateStore } from '../state/store.js';
import { CsvRowLimiter } from './csv-row-limiter.js';
import type { LoadedPipeline } from '../../shared/config/pipeline-files.js';
import { planChunks } from './planner.js';
import { flagColumns, rangeFlags, rangeWhere, readRanges, summarise } from './range-reader.js';
import { settleBoundaries } from './next-watermarks.js';
import { BatchChecks } from './quality-checks.js';
import {
  openDestination,
  prepareSource,
  staticChecks,
  type EngineDeps,
  type PreparedColumns,
  type PreparedSource,
} from './run-setup.js';
import type { ReadSession } from '../sources/source.js';
import type { ShardRange } from './watermarks.js';
import { FINAL_TABLE, Stager } from './stager.js';
import { tempDirPrefix } from './temp-names.js';

/** Rows `plan` reads to judge the checks on. */
export const CHECK_SAMPLE_ROWS = 10_000;

export interface PreviewDeps extends EngineDeps {
  readonly store: StateStore;
  readonly tempRoot: string;
  readonly now: () => Date;
  readonly stagingMemoryLimit: string;
  /** `defaults.bigquery_price_per_tib`: what `plan` prices a BigQuery load's query bytes at. */
  readonly bigqueryPricePerTib: number;
}

export async function planRun(
  deps: PreviewDeps,
  pipeline: LoadedPipeline,
  signal?: AbortSignal,
): Promise<Plan> {
  const config = pipeline.config;
  staticChecks(config);
  const destination = await openDestination(config, deps, deps.logger);
  const prepared = await prepareSource(config, deps, signal);
  try {
    const notes: string[] = [];
    let schemaDiff: Plan['schema_diff'] = [];
    try {
      schemaDiff = await destination.planSchema(prepared.transforms.columns, config.schema_evolution, signal);
    } catch (error) {
      if (!(error instanceof EtlError) || error.code !== 'SCHEMA_MISMATCH') throw error;
      schemaDiff = [{ column: '*', change: 'mismatch', detail: error.message }];
      notes.push(`the run would fail: ${error.message}`);
    }
    const reading = await readRanges(config, prepared, deps.store.getWatermarks(pipeline.name), signal);
    const ranges = reading.ranges;
    notes.push(...reading.notes);
    const parts: Plan['parts'] = [];
    for (const shard of prepared.source.shards) {
      const chunks = await planChunks(
        config,
        shard,
        prepared.source.adapter,
        prepared.source.relation,
        prepared.columns,
        signal,
      );
      notes.push(...chunks.notes);
      const range = ranges.find((r) => r.shard === shard.name);
      if (range !== undefined && range.boundary.length > 0 && config.load.mode === 'incremental') {
        notes.push(
          `shard ${shard.name}: ${range.boundary.length} row(s) at watermark ${range.watermark ?? ''} were loaded already and are skipped if unchanged`,
        );
      }
      if (range !== undefined && range.to === null)
        notes.push(`shard ${shard.name}: no cursor value yet; nothing to read`);
      for (const chunk of chunks.chunks) {
        parts.push({
          shard: prepared.source.sharded ? shard.name : null,
          chunk: chunk.index,
          sql: prepared.source.adapter.buildSelect({
            relation: prepared.source.relation,
            columns: prepared.columns,
            where: [...rangeWhere(config, prepared, range, 'normal'), ...chunk.where],
          }),
          estimated_rows: chunk.estimatedRows,
        });
      }
    }
    const judged = await judgeSample(deps, pipeline, prepared, signal);
    notes.push(...judged.notes);
    return {
      pipeline: pipeline.name,
      mode: config.load.mode,
      watermark_from: summarise(ranges, (r) => r.from),
      watermark_to: summarise(ranges, (r) => r.to),
      parts,
      schema_diff: schemaDiff.map((c) => ({ column: c.column, change: c.change, detail: c.detail })),
      destination: destination.label,
      notes,
      checks: judged.results,
      check_sample_rows: judged.sampleRows,
    };
  } finally {
    await prepared.source.close();
    await destination.close();
  }
}

/** The checks judged on a sample of the next batch; a check that cannot be evaluated is a note. */
async function judgeSample(
  deps: PreviewDeps,
  pipeline: LoadedPipeline,
  prepared: PreparedSource,
  signal?: AbortSignal,
): Promise<{ results: CheckResult[]; sampleRows: number; notes: string[] }> {
  const checks = pipeline.config.checks;
  if (checks.length === 0) return { results: [], sampleRows: 0, notes: [] };
  return withSample(deps, pipeline, prepared, CHECK_SAMPLE_ROWS, signal, async (stager, sampleRows) => {
    try {
      const batchChecks = new BatchChecks(
        checks,
        prepared.transforms.columns,
        prepared.transforms.loadedName,
      );
      await batchChecks.prepare(stager.connection, FINAL_TABLE, false);
      const verdict = await batchChecks.judge(
        {
          connection: stager.connection,
          rowsExtracted: sampleRows,
          previousRowsExtracted: null,
          now: deps.now(),
        },
        FINAL_TABLE,
      );
      const notes = [
        `checks judged on a sample of ${sampleRows} row(s) of the next batch: row counts are the sample's`,
      ];
      for (const failed of verdict.results.filter((r) => r.status !== 'pass'))
        notes.push(`the run would ${failed.status === 'fail' ? 'fail' : failed.status}: ${failed.detail}`);
      return { results: verdict.results, sampleRows, notes };
    } catch (error) {
      if (!(error instanceof EtlError) || error.code !== 'CHECK_INVALID') throw error;
      return { results: [], sampleRows, notes: [`the run would fail: ${error.message}`] };
    }
  });
}

export async function previewRun(
  deps: PreviewDeps,
  pipeline: LoadedPipeline,
  limit: number,
  signal?: AbortSignal,
): Promise<Preview> {
  const config = pipeline.config;
  staticChecks(config);
  const prepared = await prepareSource(config, deps, signal);
  try {
    return await withSample(deps, pipeline, prepared, limit, signal, async (stager) => {
      const columns = prepared.transforms.columns;
      return {
        columns: columns.map((c) => ({ name: c.name, type: typeToString(c.type) })),
        rows: await stager.finalRowsAsText(columns, limit),
      };
    });
  } finally {
    await prepared.source.close();
  }
}

/**
 * Reads the first `limit` rows of the first shard's next range into a throwaway staging
 * database, builds `final` from them (transforms and metadata applied) and hands it to `use`
 * with the number of rows staged.
 */
async function withSample<T>(
  deps: PreviewDeps,
  pipeline: LoadedPipeline,
  prepared: PreparedSource,
  limit: number,
  signal: AbortSignal | undefined,
  use: (stager: Stager, rows: number) => Promise<T>,
): Promise<T> {
  const config = pipeline.config;
  const shard = prepared.source.shards[0];
  if (shard === undefined)
    throw new EtlError('CONFIG_INVALID', `pipeline ${pipeline.name} has no source shard`);
  const { ranges } = await readRanges(config, prepared, deps.store.getWatermarks(pipeline.name), signal);
  const range = ranges.find((r) => r.shard === shard.name);
  const stagingColumns = [...prepared.columns, ...flagColumns(config)];
  const sql = prepared.source.adapter.buildSelect({
    relation: prepared.source.relation,
    columns: prepared.columns,
    where: rangeWhere(config, prepared, range, 'normal'),
    flags: rangeFlags(config, prepared, range),
  });
  return stageSample(
    deps,
    pipeline,
    prepared,
    {
      shard: shard.name,
      stagingColumns,
      range,
      openSession: () => shard.driver.openReadSession(1, signal),
      statement: sql,
    },
    limit,
    signal,
    use,
  );
}

/** Where a sample's rows come from: one statement of one read session. */
export interface SampleSource {
  readonly shard: string;
  readonly stagingColumns: readonly ColumnSchema[];
  /** The shard's range, so the watermark boundary applies as in a run; undefined for files. */
  readonly range: ShardRange | undefined;
  readonly openSession: () => Promise<ReadSession>;
  readonly statement: string;
}

/**
 * Reads the first `limit` rows of `source` into a throwaway staging database, builds `final`
 * from them (transforms and metadata applied) and hands it to `use` with the number of rows staged.
 */
export async function stageSample<T>(
  deps: PreviewDeps,
  pipeline: LoadedPipeline,
  prepared: PreparedColumns,
  source: SampleSource,
  limit: number,
  signal: AbortSignal | undefined,
  use: (stager: Stager, rows: number) => Promise<T>,
): Promise<T> {
  const config = pipeline.config;
  const { stagingColumns, range } = source;
  let tempDir: string | undefined;
  let stager: Stager | undefined;
  try {
    tempDir = await mkdtemp(tempDirPrefix(deps.tempRoot, 'preview', pipeline.name));
    const spool = join(tempDir, 'preview.csv');
    const file = createWriteStream(spool);
    const stop = new AbortController();
    const forward = (): void => stop.abort();
    signal?.addEventListener('abort', forward, { once: true });
    const limiter = new CsvRowLimiter(file, limit, () => stop.abort());
    const session = await source.openSession();
    try {
      await session.extract(source.statement, stagingColumns, limiter, stop.signal, () => undefined);
    } catch (error) {
      if (!limiter.reached || signal?.aborted === true) throw error;
    } finally {
      signal?.removeEventListener('abort', forward);
      await session.close();
      await new Promise<void>((resolve) => file.end(() => resolve()));
    }
    stager = await Stager.open(tempDir, stagingColumns, {
      memoryLimit: deps.stagingMemoryLimit,
      threads: 1,
      infiniteDates: config.source.infinite_dates,
    });
    await stager.loadShard(source.shard, [spool]);
    if (range !== undefined) await settleBoundaries(config, prepared.columns, stager, [range], deps.logger);
    const rows = await stager.buildFinal(
      prepared.transforms,
      { runId: 'preview', pipeline: pipeline.name, loadedAt: deps.now() },
      limit,
    );
    return await use(stager, rows);
  } finally {
    stager?.close();
    if (tempDir !== undefined) await rm(tempDir, { recursive: true, force: true });
  }
}
