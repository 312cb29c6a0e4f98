/**
 * What a run's kind changes in an attempt (everything else — settlement, extraction, checks, the
 * commit with the run sequence, recovery — is the same machinery for every kind):
 *
 * - `normal`: reads from the stored watermarks (range-reader.ts) and loads in the pipeline's mode.
 * - `full_refresh`: reads as a first run would (from `start_from`, up to the high-water mark read
 *   now) and loads in `full` mode, so the destination's content is replaced in the run's one
 *   commit; the watermarks it commits replace every stored one.
 * - `backfill`: reads `[from, to)` of each shard, clipped below the lower bound of the shard's next
 *   scheduled run (its watermark minus `load.lag`): everything from there on is that run's, so the
 *   two never read the same rows and the watermark neither moves back nor forward (a backfill
 *   commits none). A shard without a watermark reads nothing: its first run reads it. Merge mode
 *   merges the rows; append mode appends only those the destination does not hold yet
 *   (`append_missing`), so running the same backfill twice adds nothing the second time.
 */
import type { PipelineConfig } from '../../shared/config/pipeline-schema.js';
import { EtlError } from '../../shared/errors.js';
import type { BackfillRange, ColumnSchema, RunKind, RunKindSpec } from '../../shared/types.js';
import type { LoadMode } from '../destinations/destination.js';
import type { Watermark } from '../state/store.js';
import { readRanges, type RangeReading } from './range-reader.js';
import type { PreparedSource } from './run-setup.js';
import { lowerBound, usesWatermarks, type ShardRange } from './watermarks.js';

/** The destination load mode of a run of `kind`. */
export function loadModeFor(config: PipelineConfig, kind: RunKindSpec): LoadMode {
  switch (kind.kind) {
    case 'normal':
      return config.load.mode;
    case 'full_refresh':
      return 'full';
    case 'backfill':
      return config.load.mode === 'merge' ? 'merge' : 'append_missing';
  }
}

/**
 * The kinds of earlier runs whose row count a run of `kind` is compared with (`row_count_change`):
 * a full refresh of an incremental or merge pipeline reads far more than its normal runs, and a
 * backfill's range is the operator's choice, so each is compared only with its like (a backfill
 * with none). In full mode every run reads everything, so normal runs and refreshes compare.
 */
export function comparableKinds(config: PipelineConfig, kind: RunKindSpec): RunKind[] {
  if (config.load.mode === 'full') return kind.kind === 'backfill' ? [] : ['normal', 'full_refresh'];
  return kind.kind === 'backfill' ? [] : [kind.kind];
}

/** Each shard's range for a run of `kind` (see the file comment). */
export async function readRangesFor(
  kind: RunKindSpec,
  config: PipelineConfig,
  prepared: PreparedSource,
  stored: readonly Watermark[],
  signal: AbortSignal | undefined,
): Promise<RangeReading> {
  switch (kind.kind) {
    case 'normal':
      return readRanges(config, prepared, stored, signal);
    case 'full_refresh':
      return readRanges(config, prepared, [], signal);
    case 'backfill':
      return backfillRanges(config, prepared, stored, kind.range);
  }
}

function readsNothing(shard: string): ShardRange {
  return {
    shard,
    from: null,
    watermark: null,
    boundary: [],
    identity: null,
    to: null,
    next: null,
    windowFrom: null,
    below: [],
  };
}

function backfillRanges(
  config: PipelineConfig,
  prepared: PreparedSource,
  stored: readonly Watermark[],
  range: BackfillRange,
): RangeReading {
  const cursor: ColumnSchema | undefined = prepared.cursor;
  if (!usesWatermarks(config) || cursor === undefined) {
    throw new EtlError(
      'ILLEGAL_STATE',
      `pipeline ${config.name} keeps no watermark (mode ${config.load.mode}), so there is no range to backfill; start it with --full-refresh instead`,
    );
  }
  const notes: string[] = [];
  const ranges = prepared.source.shards.map((shard): ShardRange => {
    if (range.shard !== null && range.shard !== shard.name) return readsNothing(shard.name);
    const own = stored.find((w) => w.shard === shard.name);
    if (own === undefined) {
      notes.push(`shard ${shard.name} has no watermark yet: nothing to backfill (its first run reads it)`);
      return readsNothing(shard.name);
    }
    // Where the next scheduled run starts reading (the watermark minus the lag): not below it.
    const next = lowerBound(config, cursor, own).from ?? own.value;
    notes.push(
      `shard ${shard.name}: backfill of [${range.from}, ${range.to}) reads below ${next}, where the next scheduled run starts`,
    );
    return {
      ...readsNothing(shard.name),
      from: range.from,
      to: own.value,
      below: [range.to, next],
    };
  });
  return { ranges, excluded: 0, notes };
}
