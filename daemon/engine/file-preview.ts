/**
 * `plan` and `preview` of a files source, writing nothing (no ledger entry, no destination file).
 *
 * `plan` lists and describes the next run's files as the run would (file-batch.ts), and counts
 * their rows: every file's rows when there are at most COUNTED_FILES, else the first
 * COUNTED_FILES files' rows scaled by bytes (the figure is then marked estimated). For a BigQuery
 * destination it adds what the load would bill: load jobs are free, the queries that move staged
 * rows (merge, append via staging) are billed by the bytes they scan, at
 * `defaults.bigquery_price_per_tib`.
 * `preview` shows the first rows of the next file through the same staging and transforms.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import type { LoadedPipeline } from '../../shared/config/pipeline-files.js';
import { EtlError } from '../../shared/errors.js';
import type { Plan, Preview } from '../../shared/protocol.js';
import { typeToString } from '../../shared/types.js';
import { countFileRows } from '../sources/files/file-count.js';
import type { FileBatch } from './file-batch.js';
import { fileReading, fileSelection, previousFileColumns } from './file-attempt.js';
import { FILES_SHARD, openFileReadSession, partStatement } from './file-read-session.js';
import { stageSample, type PreviewDeps } from './run-preview.js';
import { openDestination, prepareFiles, staticChecks, type PreparedFiles } from './run-setup.js';
import { tempDirPrefix } from './temp-names.js';

/** Files whose rows `plan` counts exactly; beyond, the count is scaled by bytes. */
export const COUNTED_FILES = 20;
const SAMPLE_NAMES = 10;

async function withFiles<T>(
  deps: PreviewDeps,
  pipeline: LoadedPipeline,
  signal: AbortSignal | undefined,
  use: (prepared: PreparedFiles, tempDir: string) => Promise<T>,
): Promise<T> {
  const config = pipeline.config;
  staticChecks(config);
  const tempDir = await mkdtemp(tempDirPrefix(deps.tempRoot, 'plan', pipeline.name));
  try {
    const selection = fileSelection(config, 'normal');
    const prepared = await prepareFiles(
      config,
      {
        store: deps.store,
        secrets: deps.secrets,
        tempDir,
        parallelism: config.source.parallelism ?? 2,
        memoryLimit: deps.stagingMemoryLimit,
        threads: 1,
        now: deps.now(),
        previousColumns: previousFileColumns(deps.store, config),
      },
      selection,
      signal,
    );
    try {
      return await use(prepared, tempDir);
    } finally {
      await prepared.files.close();
    }
  } finally {
    await rm(tempDir, { recursive: true, force: true });
  }
}

/** Rows of the batch: exact when every file was counted. */
async function batchRows(
  batch: FileBatch,
  signal: AbortSignal | undefined,
): Promise<{ rows: number; exact: boolean; perFile: Map<string, number> }> {
  const counted = batch.files.slice(0, COUNTED_FILES);
  const perFile = new Map<string, number>();
  const connection = await batch.duck.connect();
  try {
    for (const file of counted)
      perFile.set(file.key, await countFileRows(connection, file.localPath, file.spec, file.key, signal));
  } finally {
    connection.closeSync();
  }
  const countedRows = [...perFile.values()].reduce((a, b) => a + b, 0);
  if (counted.length === batch.files.length) return { rows: countedRows, exact: true, perFile };
  const countedBytes = counted.reduce((a, f) => a + f.size, 0);
  const allBytes = batch.files.reduce((a, f) => a + f.size, 0);
  const rows = countedBytes === 0 ? 0 : Math.round((countedRows * allBytes) / countedBytes);
  return { rows, exact: false, perFile };
}

export async function planFileRun(
  deps: PreviewDeps,
  pipeline: LoadedPipeline,
  signal?: AbortSignal,
): Promise<Plan> {
  const config = pipeline.config;
  const destination = await openDestination(config, deps, deps.logger);
  try {
    return await withFiles(deps, pipeline, signal, async (prepared) => {
      const batch = prepared.files;
      const notes = [...fileReading(batch).notes];
      let schemaDiff: Plan['schema_diff'] = [];
      if (batch.files.length > 0) {
        try {
          schemaDiff = await destination.planSchema(
            prepared.transforms.columns,
            config.schema_evolution,
            signal,
          );
        } catch (error) {
          if (!(error instanceof EtlError) || error.code !== 'SCHEMA_MISMATCH') throw error;
          schemaDiff = [{ column: '*', change: 'mismatch', detail: error.message }];
          notes.push(`the run would fail: ${error.message}`);
        }
      } else {
        notes.push('files: nothing new to load; the next run commits nothing');
      }
      for (const bad of batch.quarantined)
        notes.push(`files: ${bad.key} would be quarantined: ${bad.reason}`);
      const rows = await batchRows(batch, signal);
      const bytes = batch.files.reduce((a, f) => a + f.size, 0);
      const cost =
        destination.estimateQueryBytes === undefined
          ? undefined
          : await destination.estimateQueryBytes(config.load.mode, bytes, batch.files.length, signal);
      return {
        pipeline: pipeline.name,
        mode: config.load.mode,
        watermark_from: null,
        watermark_to: null,
        parts: batch.files.map((file, index) => ({
          shard: null,
          chunk: index,
          sql: file.key,
          estimated_rows: rows.perFile.get(file.key) ?? null,
        })),
        schema_diff: schemaDiff.map((c) => ({ column: c.column, change: c.change, detail: c.detail })),
        destination: destination.label,
        notes,
        checks: [],
        check_sample_rows: 0,
        files: {
          count: batch.files.length,
          bytes,
          sample: batch.files.slice(0, SAMPLE_NAMES).map((f) => f.key),
          truncated: batch.plan.truncated,
          listed: batch.plan.listed,
          matched: batch.plan.matched,
          already_loaded: batch.plan.alreadyLoaded,
          quarantined: batch.quarantined.length,
          estimated_rows: rows.rows,
          rows_exact: rows.exact,
        },
        ...(cost === undefined
          ? {}
          : {
              cost: {
                load_bytes: bytes,
                query_bytes: cost.queryBytes,
                price_per_tib: deps.bigqueryPricePerTib,
                estimated_usd: (cost.queryBytes / 2 ** 40) * deps.bigqueryPricePerTib,
                detail: cost.detail,
              },
            }),
      };
    });
  } finally {
    await destination.close();
  }
}

export async function previewFileRun(
  deps: PreviewDeps,
  pipeline: LoadedPipeline,
  limit: number,
  signal?: AbortSignal,
): Promise<Preview> {
  return withFiles(deps, pipeline, signal, async (prepared, tempDir) => {
    const batch = prepared.files;
    const first = batch.files[0];
    if (first === undefined) return { columns: [], rows: [] };
    const columns = prepared.transforms.columns;
    return stageSample(
      deps,
      pipeline,
      prepared,
      {
        shard: FILES_SHARD,
        stagingColumns: prepared.columns,
        range: undefined,
        openSession: () => openFileReadSession(batch, 1, tempDir),
        statement: partStatement([first.key]),
      },
      limit,
      signal,
      async (stager) => ({
        columns: columns.map((c) => ({ name: c.name, type: typeToString(c.type) })),
        rows: await stager.finalRowsAsText(columns, limit),
      }),
    );
  });
}
