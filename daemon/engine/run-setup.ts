/**
 * What execute, plan and preview share before any data moves: static checks of the pipeline,
 * the destination, the source shards connected and described, the selected columns and the
 * compiled transforms.
 */
import type { ResolvedConnection } from '../config/resolved-connection.js';
import type { SecretEnvironment } from '../config/secrets.js';
import type { ConnectionConfig } from '../../shared/config/common-schema.js';
import {
  SHARD_COLUMN,
  sourceColumnNames,
  type DestinationConfig,
  type PipelineConfig,
  type DatabaseSourceKind,
} from '../../shared/config/pipeline-schema.js';
import { EtlError } from '../../shared/errors.js';
import { typeToString, type ColumnSchema } from '../../shared/types.js';
import type { Destination, DestinationContext } from '../destinations/destination.js';
import type { Logger } from '../logging/logger.js';
import type { SourceDialect } from '../sources/source.js';
import type { FileBatch, FileBatchDeps } from './file-batch.js';
import { openSource, type SourceHandle } from './source-shards.js';
import { checkTransformInputs, compileTransforms, type CompiledTransforms } from './transforms.js';
import { checkLagCursor } from './watermarks.js';

export interface EngineDeps {
  readonly lakeDir: string;
  readonly logger: Logger;
  readonly resolveConnection: (c: ConnectionConfig) => ResolvedConnection;
  /** The daemon's environment for destination secrets (object-store credentials). */
  readonly secrets?: SecretEnvironment;
  readonly loadSource: (kind: DatabaseSourceKind) => Promise<SourceDialect>;
  readonly createDestination: (
    config: DestinationConfig,
    context: DestinationContext,
  ) => Promise<Destination>;
}

/** What the load needs of any source: its columns, the compiled transforms and the row identity. */
export interface PreparedColumns {
  readonly columns: readonly ColumnSchema[];
  readonly transforms: CompiledTransforms;
  readonly cursor: ColumnSchema | undefined;
  /** `source.key` without `_etl_shard`: the source columns of the key (chunking). */
  readonly sourceKey: readonly string[];
  /** `sourceKey` as loaded (`column_names`): the staged batch's key columns (NULL checks). */
  readonly loadedKey: readonly string[];
  /** A row's identity in the destination (loaded names): the key, plus `_etl_shard` for sharded sources. */
  readonly rowKey: readonly string[];
  /** `load.cursor` as loaded: the staged batch's cursor column (newest row per key, the destination's merge). */
  readonly loadedCursor: string | undefined;
}

/** A database source, connected and described. */
export interface PreparedSource extends PreparedColumns {
  readonly source: SourceHandle;
}

/** A files source: the run's files planned, made local and described (file-batch.ts). */
export interface PreparedFiles extends PreparedColumns {
  readonly files: FileBatch;
}

/** Checks that need no query: transforms against a listed `source.columns`. */
export function staticChecks(config: PipelineConfig): void {
  const listed = sourceColumnNames(config.source);
  if (listed !== undefined) checkTransformInputs(listed, config.transform);
}

export async function openDestination(
  config: PipelineConfig,
  deps: EngineDeps,
  logger: Logger,
): Promise<Destination> {
  return deps.createDestination(config.destination, {
    lakeDir: deps.lakeDir,
    logger,
    resolveConnection: deps.resolveConnection,
    ...(deps.secrets === undefined ? {} : { secrets: deps.secrets }),
  });
}

export function selectColumns(
  config: PipelineConfig,
  described: readonly ColumnSchema[],
  shard: string,
): ColumnSchema[] {
  const wanted = sourceColumnNames(config.source);
  if (wanted === undefined) return [...described];
  const byName = new Map(described.map((c) => [c.name, c]));
  return wanted.map((name) => {
    const column = byName.get(name);
    if (column === undefined) {
      throw new EtlError(
        'CONFIG_INVALID',
        `source.columns names "${name}", which shard ${shard} does not have (columns: ${described.map((c) => c.name).join(', ')})`,
      );
    }
    return column;
  });
}

export function sameColumns(a: readonly ColumnSchema[], b: readonly ColumnSchema[]): string | null {
  for (const column of a) {
    const other = b.find((c) => c.name === column.name);
    if (other === undefined) return `column "${column.name}" is missing`;
    if (typeToString(other.type) !== typeToString(column.type)) {
      return `column "${column.name}" is ${typeToString(other.type)}, not ${typeToString(column.type)}`;
    }
  }
  return null;
}

export function requireColumn(columns: readonly ColumnSchema[], name: string, role: string): ColumnSchema {
  const column = columns.find((c) => c.name === name);
  if (column === undefined) {
    throw new EtlError(
      'CONFIG_INVALID',
      `${role} column "${name}" is not among the extracted columns (${columns.map((c) => c.name).join(', ')})`,
    );
  }
  return column;
}

/** Connects every shard, describes it and compiles the transforms; closes the source on failure. */
export async function prepareSource(
  config: PipelineConfig,
  deps: EngineDeps,
  signal: AbortSignal | undefined,
): Promise<PreparedSource> {
  if (config.source.type === 'files')
    throw new EtlError('INTERNAL', `pipeline ${config.name}: a files source is prepared by prepareFiles`);
  const dialect = await deps.loadSource(config.source.type);
  const source = openSource(config, dialect, deps.resolveConnection);
  try {
    await source.init(signal);
    const described = await Promise.all(
      source.shards.map((s) => s.introspector.describe(source.relation, signal)),
    );
    const first = source.shards[0];
    const firstColumns = described[0];
    if (first === undefined || firstColumns === undefined)
      throw new EtlError('CONFIG_INVALID', `pipeline ${config.name} has no source shard`);
    const columns = selectColumns(config, firstColumns, first.name);
    source.shards.forEach((shard, index) => {
      const problem = sameColumns(columns, selectColumns(config, described[index] ?? [], shard.name));
      if (problem !== null) {
        throw new EtlError(
          'SCHEMA_MISMATCH',
          `shard ${shard.name} differs from shard ${first.name}: ${problem}`,
        );
      }
    });
    const sourceKey = (config.source.key ?? []).filter((k) => k !== SHARD_COLUMN);
    for (const k of sourceKey) requireColumn(columns, k, 'key');
    const cursor =
      config.load.cursor === undefined ? undefined : requireColumn(columns, config.load.cursor, 'cursor');
    checkLagCursor(config, cursor);
    const transforms = compileTransforms(columns, config.transform, {
      key: sourceKey,
      cursor: config.load.cursor,
      sharded: source.sharded,
      columnNames: config.destination.column_names,
    });
    const loadedKey = sourceKey.map((k) => transforms.loadedName(k));
    const rowKey = source.sharded ? [...loadedKey, SHARD_COLUMN] : loadedKey;
    const loadedCursor =
      config.load.cursor === undefined ? undefined : transforms.loadedName(config.load.cursor);
    return { source, columns, transforms, cursor, sourceKey, loadedKey, rowKey, loadedCursor };
  } catch (error) {
    await source.close();
    throw error;
  }
}

/**
 * Plans, fetches and describes a files run's batch and compiles the transforms over its columns
 * (the files' own, then `_etl_file` and `_etl_file_modified_at`). A merge keeps the row of the most
 * recently modified file per key: `_etl_file_modified_at` is its cursor.
 */
export async function prepareFiles(
  config: PipelineConfig,
  deps: FileBatchDeps,
  selection: 'new' | 'all',
  signal: AbortSignal | undefined,
): Promise<PreparedFiles> {
  // Imported here: file-batch.ts loads DuckDB, which an idle daemon never does.
  const { FILE_METADATA_COLUMNS, prepareFileBatch } = await import('./file-batch.js');
  const files = await prepareFileBatch(config, deps, selection, signal);
  try {
    const columns = [...files.columns, ...FILE_METADATA_COLUMNS];
    const sourceKey = config.source.key ?? [];
    if (files.files.length > 0) for (const k of sourceKey) requireColumn(columns, k, 'key');
    const transforms = compileTransforms(columns, config.transform, {
      key: sourceKey,
      cursor: undefined,
      sharded: false,
      columnNames: config.destination.column_names,
    });
    const loadedKey = sourceKey.map((k) => transforms.loadedName(k));
    const loadedCursor =
      config.load.mode === 'merge' ? transforms.loadedName('_etl_file_modified_at') : undefined;
    return {
      files,
      columns,
      transforms,
      cursor: undefined,
      sourceKey,
      loadedKey,
      rowKey: loadedKey,
      loadedCursor,
    };
  } catch (error) {
    await files.close();
    throw error;
  }
}
