/**
 * `etlctl watermark show|set|reset`: how an operator sees and settles a pipeline's incremental
 * position, above all when runs stop with STATE_INCONSISTENT (the state store and the destination
 * disagree about what was committed; see destination-settle.ts).
 *
 * - `set VALUE`: the destination holds every row with a cursor at or below VALUE. The next run
 *   reads from VALUE (minus the lag) and drops every row it reads at or below VALUE.
 * - `reset`: no watermark; the next run reads from `start_from` (append mode: empty the
 *   destination first, or its rows are loaded again).
 * Both record the destination's committed sequence as the state store's, so the next run's
 * settlement passes, and both are kept in the pipeline's change history.
 */
import { EtlError } from '../../shared/errors.js';
import type { MethodParams, WatermarkState } from '../../shared/protocol.js';
import type { StateStore, Watermark } from '../state/store.js';
import type { LoadedPipeline } from '../../shared/config/pipeline-files.js';
import type { RunEngine } from './engine.js';
import { ALL_LOADED_AT_OR_BELOW } from './watermarks.js';

export interface WatermarkDeps {
  readonly store: StateStore;
  readonly engine: RunEngine;
  /** True while a run of the pipeline is running or waiting to retry: its position must not move. */
  readonly busy: (pipeline: string) => boolean;
}

const CHANGES_SHOWN = 10;

function shardsOf(pipeline: LoadedPipeline): string[] {
  return pipeline.config.source.shards?.map((s) => s.name) ?? ['default'];
}

function view(store: StateStore, pipeline: LoadedPipeline, destination: number | null): WatermarkState {
  return {
    pipeline: pipeline.name,
    committed_sequence: store.getRuntime(pipeline.name).committedSequence,
    destination_sequence: destination,
    watermarks: store.getWatermarks(pipeline.name).map((w) => ({
      shard: w.shard,
      value: w.value,
      boundary_rows: w.boundary.filter((b) => b !== ALL_LOADED_AT_OR_BELOW).length,
      sequence: w.sequence,
      updated_at: w.updatedAt,
    })),
    changes: store.listStateChanges(pipeline.name, CHANGES_SHOWN),
  };
}

export async function watermarkCommand(
  deps: WatermarkDeps,
  pipeline: LoadedPipeline,
  params: MethodParams<'watermark'>,
): Promise<WatermarkState> {
  const { store, engine } = deps;
  const destination = await engine.committedInDestination(pipeline);
  if (params.action === 'show') return view(store, pipeline, destination);
  if (pipeline.config.load.cursor === undefined || pipeline.config.load.mode === 'full') {
    throw new EtlError(
      'ILLEGAL_STATE',
      `pipeline ${pipeline.name} keeps no watermark (mode ${pipeline.config.load.mode}${pipeline.config.load.cursor === undefined ? ', no cursor' : ''})`,
    );
  }
  if (deps.busy(pipeline.name)) {
    throw new EtlError(
      'ILLEGAL_STATE',
      `pipeline ${pipeline.name} has a run in progress; stop it (etlctl stop ${pipeline.name}) or wait, then change its watermark`,
    );
  }
  const committed = destination ?? 0;
  if (params.action === 'reset') {
    store.replaceWatermarks(pipeline.name, committed, [], {
      action: 'reset',
      detail: `watermarks removed; the next run reads from ${pipeline.config.load.start_from === undefined ? 'the beginning' : `start_from ${String(pipeline.config.load.start_from)}`}; destination sequence ${committed}`,
    });
    return view(store, pipeline, destination);
  }
  const value = params.value;
  if (value === undefined)
    throw new EtlError(
      'USAGE',
      'watermark set needs a VALUE: the cursor value the destination is complete up to',
    );
  const shards = shardsOf(pipeline);
  if (params.shard !== undefined && !shards.includes(params.shard)) {
    throw new EtlError(
      'NOT_FOUND',
      `pipeline ${pipeline.name} has no shard "${params.shard}" (shards: ${shards.join(', ')})`,
    );
  }
  const kept = store
    .getWatermarks(pipeline.name)
    .filter((w) => params.shard !== undefined && w.shard !== params.shard);
  const changed: Omit<Watermark, 'updatedAt' | 'sequence'>[] = (
    params.shard === undefined ? shards : [params.shard]
  ).map((shard) => ({
    shard,
    value,
    boundary: [ALL_LOADED_AT_OR_BELOW],
    identity: null,
  }));
  store.replaceWatermarks(pipeline.name, committed, [...kept, ...changed], {
    action: 'set',
    detail: `${params.shard === undefined ? 'every shard' : `shard ${params.shard}`} set to ${value}: rows at or below it count as loaded; destination sequence ${committed}`,
  });
  return view(store, pipeline, destination);
}
