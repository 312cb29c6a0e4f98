/**
 * Phase 2 of a files run: which files this run loads, on this machine, with which columns.
 *
 * 1. The store under `source.url` is listed (narrowed to the glob's literal prefix, paginated) and
 *    compared with the state store's file ledger page by page (file-listing.ts): new files, files
 *    changed after their load (per `on_changed_file`), quarantined files replaced by a new version.
 *    A full load (or a full refresh) takes every matching file.
 * 2. Each planned file is made local: a local directory is read in place; an object is downloaded
 *    into the attempt's temp directory, at most `parallelism` at once.
 * 3. Each file is described by DuckDB (types inferred from `sample_rows` rows; Parquet from its
 *    footer), and the batch's columns are their union by name under the widening rules of
 *    file-schema.ts. An explicit `source.columns` map replaces inference.
 *    A file that cannot be read or does not fit the batch fails the run naming the file, or with
 *    `on_bad_file: skip` goes to the batch's quarantine list and out of the load.
 *
 * Decisions: every file of the batch is described, not only a sample of files, because a column
 * that first appears in file 500 must be in the load's columns before any part is written (the
 * destination's schema is planned once per run); describing reads only a sample of rows, so its
 * cost grows with the number of files, not their size.
 */
import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api';
import { sourceColumnNames, type PipelineConfig } from '../../shared/config/pipeline-schema.js';
import { fileSourceOptions, type FileSourceOptions } from '../../shared/config/files-source-schema.js';
import { cancelledError, EtlError, toEtlError } from '../../shared/errors.js';
import { parseTypeName, type ColumnSchema } from '../../shared/types.js';
import type { SecretEnvironment } from '../config/secrets.js';
import { compileGlob } from '../sources/files/file-glob.js';
import { formatOf } from '../sources/files/file-format.js';
import { planFiles, type FilePlan, type PlannedFile } from '../sources/files/file-listing.js';
import { DEFAULT_CSV_OPTIONS, type FileReadSpec } from '../sources/files/file-read-spec.js';
import { decompressFile } from '../sources/files/file-content-checks.js';
import { countFileRows } from '../sources/files/file-count.js';
import { describeFile, mergeFileSchemas } from '../sources/files/file-schema.js';
import { openObjectStore } from '../storage/open-store.js';
import { forEachLimited } from '../storage/store-tuning.js';
import type { ObjectStore } from '../storage/object-store.js';
import type { StateStore } from '../state/store.js';
import { fileReadersFor } from './run-memory.js';

/** A planned file, made local and described. */
export interface BatchFile extends PlannedFile {
  readonly localPath: string;
  readonly spec: FileReadSpec;
}

/** A file kept out of the load (`on_bad_file: skip`), with why: never a value of its rows. */
export interface QuarantinedFile {
  readonly key: string;
  readonly size: number;
  readonly version: string;
  readonly lastModified: Date;
  readonly reason: string;
}

export interface FileBatch {
  readonly options: FileSourceOptions;
  readonly store: ObjectStore;
  readonly plan: FilePlan;
  /** The files this run loads, in key order (quarantined ones are moved out as they are found). */
  readonly files: BatchFile[];
  readonly quarantined: QuarantinedFile[];
  /** The batch's source columns (without the `_etl_file*` metadata the reader adds). */
  readonly columns: readonly ColumnSchema[];
  /** DuckDB for reading the files (describe and extract), closed with the batch. */
  readonly duck: DuckDBInstance;
  /** Its memory limit (DuckDB's form): how many files may be read at once (run-memory.ts). */
  readonly memoryLimit: string;
  close(): Promise<void>;
}

export interface FileBatchDeps {
  readonly store: StateStore;
  readonly secrets: SecretEnvironment | undefined;
  readonly tempDir: string;
  readonly parallelism: number;
  readonly memoryLimit: string;
  readonly threads: number;
  readonly now: Date;
  /** The source columns the last committed batch loaded (its plan record); none before the first. */
  readonly previousColumns: readonly ColumnSchema[];
}

/** The metadata columns every files row carries, after the file's own columns. */
export const FILE_METADATA_COLUMNS: readonly ColumnSchema[] = [
  { name: '_etl_file', type: { kind: 'text' }, nullable: false, sourceType: 'file key' },
  { name: '_etl_file_modified_at', type: { kind: 'timestamptz' }, nullable: false, sourceType: 'file time' },
];

export function readSpecOf(options: FileSourceOptions, key: string): FileReadSpec {
  const { format, compression } = formatOf(key, {
    ...(options.format === undefined ? {} : { format: options.format }),
    compression: options.compression,
  });
  return {
    format,
    compression,
    csv: {
      ...DEFAULT_CSV_OPTIONS,
      ...options.csv,
      delimiter: options.csv.delimiter ?? (/\.tsv(\.[a-z0-9]+)?$/i.test(key) ? '\t' : ','),
    },
    sampleRows: options.sampleRows,
    nested: options.nested,
  };
}

/** The explicit `source.columns` map of a files source, as columns; undefined when types are inferred. */
export function explicitFileColumns(config: PipelineConfig): ColumnSchema[] | undefined {
  const columns = config.source.columns;
  if (columns === undefined || Array.isArray(columns)) return undefined;
  return Object.entries(columns).map(([name, text]) => {
    const type = parseTypeName(text);
    if (type === undefined)
      throw new EtlError('CONFIG_INVALID', `source.columns.${name}: unknown type "${text}"`);
    return { name, type, nullable: true, sourceType: text };
  });
}

function badFile(file: PlannedFile, error: unknown): QuarantinedFile {
  return {
    key: file.key,
    size: file.size,
    version: file.version,
    lastModified: file.lastModified,
    reason: toEtlError(error, 'SOURCE_DATA').message,
  };
}

/** Plans, fetches and describes the run's files (see the file comment). */
export async function prepareFileBatch(
  config: PipelineConfig,
  deps: FileBatchDeps,
  selection: 'new' | 'all',
  signal: AbortSignal | undefined,
): Promise<FileBatch> {
  const options = fileSourceOptions(config.source);
  const glob = compileGlob(options.pattern);
  const store = await openObjectStore(options.url, config.source.storage, {
    baseDir: '/',
    secrets: deps.secrets ?? { env: {}, credentialsDirectory: undefined },
  });
  let duck: DuckDBInstance | undefined;
  try {
    const plan = await planFiles({
      store,
      glob,
      lookup: (keys) => deps.store.lookupSourceFiles(config.name, keys),
      onChangedFile: options.onChangedFile,
      maxFiles: options.maxFilesPerRun,
      minAgeMs: options.minAgeMs,
      now: deps.now,
      select: selection,
      ...(signal === undefined ? {} : { signal }),
    });
    const downloads = join(deps.tempDir, 'files');
    await mkdir(downloads, { recursive: true });
    duck = await DuckDBInstance.create(':memory:', {
      memory_limit: deps.memoryLimit,
      threads: String(deps.threads),
      temp_directory: join(deps.tempDir, 'duckdb-files-tmp'),
    });
    const quarantined: QuarantinedFile[] = [];
    const fetched: (BatchFile | undefined)[] = new Array<BatchFile | undefined>(plan.files.length);
    const described: ({ file: string; columns: ColumnSchema[]; typeless: boolean } | undefined)[] = [];
    const explicit = explicitFileColumns(config);
    const instance = duck;
    const connections: DuckDBConnection[] = [];
    try {
      await forEachLimited(
        plan.files.map((file, index) => ({ file, index })),
        fileReadersFor(deps.memoryLimit, deps.parallelism),
        async ({ file, index }) => {
          if (signal?.aborted) throw cancelledError('the run');
          const connection = connections.pop() ?? (await instance.connect());
          try {
            const { spec, localPath } = await plainCopy(
              store,
              file,
              readSpecOf(options, file.key),
              join(downloads, String(index)),
              signal,
            );
            const columns = explicit ?? (await describeFile(connection, localPath, spec, file.key, signal));
            fetched[index] = { ...file, localPath, spec };
            const typeless =
              explicit === undefined &&
              (await withoutValues(connection, file, localPath, spec, columns, signal));
            described[index] = { file: file.key, columns, typeless };
          } catch (error) {
            if (options.onBadFile !== 'skip' || !isBadFileError(error)) throw error;
            quarantined.push(badFile(file, error));
          } finally {
            connections.push(connection);
          }
        },
      );
    } finally {
      for (const connection of connections) connection.closeSync();
    }
    const files: BatchFile[] = [];
    // The columns loaded before stay: a batch whose files lack one loads it as NULL.
    let columns: ColumnSchema[] = [...deps.previousColumns];
    // Files with values decide the types; a file without any (a header-only CSV) then adds only
    // the names no other file has, as text: its inferred `text` says nothing about its values.
    const typed = described.flatMap((d, i) => (d === undefined || d.typeless ? [] : [i]));
    const valueless = described.flatMap((d, i) => (d?.typeless === true ? [i] : []));
    for (const index of typed) {
      const file = fetched[index];
      const schema = described[index];
      if (file === undefined || schema === undefined) continue;
      try {
        columns = mergeFileSchemas([{ file: 'the columns loaded so far', columns }, schema]);
        files.push(file);
      } catch (error) {
        if (options.onBadFile !== 'skip' || !isBadFileError(error)) throw error;
        quarantined.push(badFile(file, error));
      }
    }
    for (const index of valueless) {
      const file = fetched[index];
      const schema = described[index];
      if (file === undefined || schema === undefined) continue;
      const known = new Set(columns.map((c) => c.name));
      columns = [...columns, ...schema.columns.filter((c) => !known.has(c.name))];
      files.push(file);
    }
    files.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
    columns = selectFileColumns(config, columns, explicit);
    const opened = duck;
    return {
      options,
      store,
      plan,
      files,
      quarantined,
      columns,
      duck: opened,
      memoryLimit: deps.memoryLimit,
      close: async () => {
        opened.closeSync();
        await store.close();
      },
    };
  } catch (error) {
    duck?.closeSync();
    await store.close();
    throw error;
  }
}

/** Small files whose inferred columns are all text are counted: without a row, their types mean nothing. */
const VALUELESS_PROBE_BYTES = 64 * 1024;

async function withoutValues(
  connection: DuckDBConnection,
  file: PlannedFile,
  localPath: string,
  spec: FileReadSpec,
  columns: readonly ColumnSchema[],
  signal: AbortSignal | undefined,
): Promise<boolean> {
  if (columns.length === 0) return true;
  if (spec.format === 'parquet' || file.size > VALUELESS_PROBE_BYTES) return false;
  if (!columns.every((c) => c.type.kind === 'text')) return false;
  return (await countFileRows(connection, localPath, spec, file.key, signal)) === 0;
}

/** Data and schema failures of one file are what `on_bad_file: skip` skips; an unreachable store is not. */
export function isBadFileError(error: unknown): boolean {
  return error instanceof EtlError && (error.code === 'SOURCE_DATA' || error.code === 'SCHEMA_MISMATCH');
}

/** The local path of a planned file: the file itself in a local directory, else a download. */
async function localCopy(store: ObjectStore, file: PlannedFile, downloadPath: string): Promise<string> {
  if (store.localRoot !== undefined) return join(store.localRoot, file.key);
  const found = await store.download(file.key, downloadPath);
  if (!found)
    throw new EtlError(
      'SOURCE_DATA',
      `${store.displayUrl}: ${file.key} was listed but is gone (deleted during the run)`,
      {
        retryable: true,
      },
    );
  return downloadPath;
}

/**
 * The file as DuckDB reads it: local and uncompressed. Compressed files are decompressed here by
 * zlib, which checks the gzip CRC and the zstd frame ends that DuckDB skips (its garbage never
 * names a column), and spares DuckDB's compressed reader its ~60 MiB of buffers per file.
 */
async function plainCopy(
  store: ObjectStore,
  file: PlannedFile,
  spec: FileReadSpec,
  downloadPath: string,
  signal: AbortSignal | undefined,
): Promise<{ spec: FileReadSpec; localPath: string }> {
  const localPath = await localCopy(store, file, downloadPath);
  if (spec.compression === 'none') return { spec, localPath };
  const plainPath = `${downloadPath}.plain`;
  await decompressFile(localPath, spec.compression, plainPath, file.key, signal);
  if (localPath === downloadPath) await rm(downloadPath, { force: true });
  return { spec: { ...spec, compression: 'none' }, localPath: plainPath };
}

/** `source.columns` as a list selects columns of the batch (a map already is the whole set). */
function selectFileColumns(
  config: PipelineConfig,
  columns: readonly ColumnSchema[],
  explicit: ColumnSchema[] | undefined,
): ColumnSchema[] {
  if (explicit !== undefined) return explicit;
  const wanted = sourceColumnNames(config.source);
  if (wanted === undefined) return [...columns];
  const byName = new Map(columns.map((c) => [c.name, c]));
  return wanted.map(
    (name) =>
      byName.get(name) ?? {
        // A listed column no file of this batch has yet: loaded as NULL text until one does.
        name,
        type: { kind: 'text' },
        nullable: true,
        sourceType: 'absent',
      },
  );
}
