/**
 * Chunk planning: with `key` and `chunk_rows`, a shard's table is split into key ranges
 * read concurrently. Only a single integer key can be split: `keyRange` gives min and max, the row
 * estimate (exact count when the catalog has none) gives the number of chunks, and the span is
 * cut into equal ranges. The first range is open below and the last open above, so rows outside
 * the min/max seen at planning time are still read. Other keys read as one chunk (noted).
 */
import { SHARD_COLUMN, type PipelineConfig } from '../../shared/config/pipeline-schema.js';
import type { ColumnSchema } from '../../shared/types.js';
import type { SourceAdapter, SourceRelation } from '../sources/source.js';
import type { ShardSource } from './source-shards.js';

/** More chunks than this buys nothing but connection churn. */
const MAX_CHUNKS = 1024;

export interface ChunkRange {
  /** null: the shard is read as one part. */
  readonly index: number | null;
  readonly where: readonly string[];
  readonly estimatedRows: number | null;
}

export interface ShardChunks {
  readonly chunks: readonly ChunkRange[];
  readonly notes: readonly string[];
}

const INTEGER_KINDS = new Set(['int16', 'int32', 'int64']);

async function rowEstimate(
  shard: ShardSource,
  adapter: SourceAdapter,
  relation: SourceRelation,
  signal?: AbortSignal,
): Promise<number | null> {
  const estimate = await shard.introspector.estimateRows(relation, signal);
  if (estimate !== null && estimate > 0) return estimate;
  const rows = await shard.driver.queryText(adapter.buildCount(relation, []), signal);
  const count = rows[0]?.[0];
  return count === null || count === undefined ? null : Number(count);
}

export async function planChunks(
  config: PipelineConfig,
  shard: ShardSource,
  adapter: SourceAdapter,
  relation: SourceRelation,
  columns: readonly ColumnSchema[],
  signal?: AbortSignal,
): Promise<ShardChunks> {
  const chunkRows = config.source.chunk_rows;
  // Within a shard `_etl_shard` is constant: the key columns that vary are the source's.
  const key = config.source.key?.filter((k) => k !== SHARD_COLUMN);
  if (chunkRows === undefined || key === undefined || key.length === 0) {
    return {
      chunks: [
        { index: null, where: [], estimatedRows: await shard.introspector.estimateRows(relation, signal) },
      ],
      notes: [],
    };
  }
  const keyColumn = key.length === 1 ? columns.find((c) => c.name === key[0]) : undefined;
  if (keyColumn === undefined || !INTEGER_KINDS.has(keyColumn.type.kind)) {
    return {
      chunks: [
        { index: null, where: [], estimatedRows: await shard.introspector.estimateRows(relation, signal) },
      ],
      notes: [
        `shard ${shard.name}: read as one chunk: chunking needs a single integer key (key: ${key.join(', ')})`,
      ],
    };
  }
  const range = await shard.introspector.keyRange(relation, keyColumn, signal);
  const estimate = await rowEstimate(shard, adapter, relation, signal);
  if (range === null || estimate === null || estimate <= chunkRows) {
    return {
      chunks: [{ index: null, where: [], estimatedRows: estimate }],
      notes: range === null ? [`shard ${shard.name}: table is empty at planning time; one chunk`] : [],
    };
  }
  const min = BigInt(range.min);
  const max = BigInt(range.max);
  const span = max - min + 1n;
  let count = BigInt(Math.min(Math.ceil(estimate / chunkRows), MAX_CHUNKS));
  if (count > span) count = span;
  const column = adapter.quoteIdentifier(keyColumn.name);
  const literal = (value: bigint): string => adapter.literal(value.toString(), keyColumn.type);
  const bounds: bigint[] = [];
  for (let i = 1n; i < count; i++) bounds.push(min + (span * i) / count);
  const perChunk = Math.ceil(estimate / Number(count));
  const chunks: ChunkRange[] = [];
  for (let i = 0; i <= bounds.length; i++) {
    const lower = bounds[i - 1];
    const upper = bounds[i];
    const where: string[] = [];
    if (lower !== undefined) where.push(`${column} >= ${literal(lower)}`);
    if (upper !== undefined)
      where.push(
        lower === undefined
          ? `(${column} < ${literal(upper)} OR ${column} IS NULL)`
          : `${column} < ${literal(upper)}`,
      );
    chunks.push({ index: i, where, estimatedRows: perChunk });
  }
  return {
    chunks,
    notes: [
      `shard ${shard.name}: ${chunks.length} chunks of ~${perChunk} rows on ${keyColumn.name} [${range.min}, ${range.max}]`,
    ],
  };
}
