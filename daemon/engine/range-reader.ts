/**
 * Reads each shard's incremental range at the start of a run: the stored watermark (or
 * `start_from`) as the lower bound and the high-water mark `max(cursor)` as the upper bound.
 */
import type { PipelineConfig } from '../../shared/config/pipeline-schema.js';
import { EtlError } from '../../shared/errors.js';
import type { Watermark } from '../state/store.js';
import type { PreparedSource } from './run-setup.js';
import { lowerBound, rangePredicates, usesWatermarks, type ShardRange } from './watermarks.js';

export async function readRanges(
  config: PipelineConfig,
  prepared: PreparedSource,
  stored: readonly Watermark[],
  signal: AbortSignal | undefined,
): Promise<ShardRange[]> {
  const cursor = prepared.cursor;
  if (!usesWatermarks(config) || cursor === undefined) return [];
  const { adapter, relation } = prepared.source;
  return Promise.all(
    prepared.source.shards.map(async (shard) => {
      const rows = await shard.driver.queryText(adapter.buildMax(relation, cursor, []), signal);
      const to = rows[0]?.[0] ?? null;
      const lower = lowerBound(
        config,
        cursor,
        stored.find((w) => w.shard === shard.name),
      );
      return { shard: shard.name, ...lower, to };
    }),
  );
}

/** The range's WHERE predicates; a shard without any cursor value reads nothing. */
export function rangeWhere(prepared: PreparedSource, range: ShardRange | undefined): string[] {
  if (range === undefined) return [];
  const cursor = prepared.cursor;
  if (cursor === undefined) throw new EtlError('INTERNAL', 'a watermark range without a cursor column');
  if (range.to === null) return ['1 = 0'];
  return rangePredicates(prepared.source.adapter, cursor, range);
}

/** One text for a per-shard value: the value when all shards agree, else `shard=value, …`. */
export function summarise(ranges: readonly ShardRange[], pick: (r: ShardRange) => string | null): string | null {
  if (ranges.length === 0) return null;
  const values = ranges.map(pick);
  if (values.every((v) => v === values[0])) return values[0] ?? null;
  return ranges.map((r, i) => `${r.shard}=${values[i] ?? 'none'}`).join(', ');
}
