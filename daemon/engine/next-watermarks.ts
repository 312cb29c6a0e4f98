/**
 * After staging: the watermarks this run commits, and (append mode) the removal of rows loaded
 * before. Order matters: the next boundary is read from the staged batch before anything is
 * dropped, because a dropped row was loaded before and is read again by the next run all the same.
 *
 * The next boundary is the multiset of content hashes of the rows the source flagged as inside
 * the next run's re-read window. When the watermark did not move, the stored boundary is kept as
 * well (the highest multiplicity of each hash wins), so a row loaded earlier at the same value
 * stays recognised even if it was deleted and re-inserted unchanged.
 */
import type { ColumnSchema } from '../../shared/types.js';
import type { Logger } from '../logging/logger.js';
import type { BoundaryIdentity } from '../state/store.js';
import { legacyIdentityExpression, type Stager } from './stager.js';
import {
  ALL_LOADED_AT_OR_BELOW,
  keepsBoundary,
  mergeBoundaries,
  sameIdentity,
  usesWatermarks,
  type FinalWatermark,
  type ShardRange,
} from './watermarks.js';
import type { PipelineConfig } from '../../shared/config/pipeline-schema.js';

export interface NextWatermarks {
  /** Null for modes that keep no watermarks. */
  readonly watermarks: FinalWatermark[] | null;
  /** Staged rows removed as loaded before (append mode). */
  readonly dropped: number;
}

export async function settleBoundaries(
  config: PipelineConfig,
  sourceColumns: readonly ColumnSchema[],
  stager: Stager,
  ranges: readonly ShardRange[],
  logger: Logger,
): Promise<NextWatermarks> {
  if (!usesWatermarks(config)) return { watermarks: null, dropped: 0 };
  const boundary = keepsBoundary(config);
  const identity: BoundaryIdentity | null = boundary ? { columns: sourceColumns.map((c) => c.name) } : null;
  const watermarks: FinalWatermark[] = [];
  let dropped = 0;
  for (const range of ranges) {
    let next: FinalWatermark | null = null;
    if (range.next !== null) {
      let entries: string[] = [];
      if (identity !== null) {
        entries = await stager.boundaryIdentities(range.shard, identity);
        if (range.next === range.watermark && sameIdentity(range.identity, identity))
          entries = mergeBoundaries(range.boundary, entries);
      }
      next = { shard: range.shard, value: range.next, boundary: entries, identity };
    }
    if (boundary && range.boundary.length > 0) {
      const removed = range.boundary.includes(ALL_LOADED_AT_OR_BELOW)
        ? await stager.dropAllPrior(range.shard)
        : range.identity === null
          ? await stager.dropLoadedLegacy(
              range.shard,
              range.boundary,
              legacyIdentityExpression(sourceColumns, config.source.key),
            )
          : await stager.dropLoaded(range.shard, range.boundary, range.identity);
      if (removed > 0)
        logger.debug(
          `shard ${range.shard}: ${removed} row(s) read again at the watermark were loaded already`,
        );
      dropped += removed;
    }
    if (next !== null) watermarks.push(next);
  }
  return { watermarks, dropped };
}
