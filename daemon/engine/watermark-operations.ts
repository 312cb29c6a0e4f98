/**
 * `etlctl watermark show|set|reset`: how an operator sees and settles a pipeline's incremental
 * position, above all when runs stop with STATE_INCONSISTENT (the state store and the destination
 * disagree about what was committed; see destination-settle.ts).
 *
 * - `set VALUE`: the destination holds every row with a cursor at or below VALUE. The next run
 *   reads from VALUE (minus the lag) and drops every row it reads at or below VALUE. VALUE is
 *   checked against the cursor column's type by the source and stored in the form the source
 *   writes that column's values (cursor-values.ts).
 * - `reset`: no watermark; the next run reads from `start_from` (append mode: empty the
 *   destination first, or its rows are loaded again).
 * Either applies to every shard, or to the one `--shard` names. Both record the destination's
 * committed sequence as the state store's, so the next run's settlement passes, and both are kept
 * in the pipeline's change history with who made them and each shard's value before and after.
 *
 * The caller makes sure no run of the pipeline starts or runs meanwhile (the supervisor's hold):
 * a change is refused while a run is active rather than queued behind it, because the operator
 * decided on the position they saw, which that run is about to move.
 */
import { EtlError } from '../../shared/errors.js';
import type { MethodParams, StateChange, WatermarkState } from '../../shared/protocol.js';
import type { StateChangeRow, StateStore, Watermark } from '../state/store.js';
import type { LoadedPipeline } from '../../shared/config/pipeline-files.js';
import type { RunEngine } from './engine.js';
import { ALL_LOADED_AT_OR_BELOW, usesWatermarks } from './watermarks.js';
import { singleTableOnly } from './table-members.js';

export interface WatermarkDeps {
  readonly store: StateStore;
  readonly engine: RunEngine;
}

const CHANGES_SHOWN = 10;

function shardsOf(pipeline: LoadedPipeline): string[] {
  return pipeline.config.source.shards?.map((s) => s.name) ?? ['default'];
}

/** A stored change as the protocol shows it. */
export function toStateChange(row: StateChangeRow): StateChange {
  return {
    at: row.at,
    action: row.action,
    by: row.actor,
    shards: row.shards.map((s) => ({ shard: s.shard, old: s.old, new: s.new })),
    detail: row.detail,
  };
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
    changes: store.listStateChanges(pipeline.name, CHANGES_SHOWN).map(toStateChange),
  };
}

function checkShard(pipeline: LoadedPipeline, shard: string | undefined): void {
  const shards = shardsOf(pipeline);
  if (shard !== undefined && !shards.includes(shard)) {
    throw new EtlError(
      'USAGE',
      `pipeline ${pipeline.name} has no shard "${shard}" (shards: ${shards.join(', ')})`,
    );
  }
}

export async function watermarkCommand(
  deps: WatermarkDeps,
  pipeline: LoadedPipeline,
  params: MethodParams<'watermark'>,
  actor: string | null,
): Promise<WatermarkState> {
  const { store, engine } = deps;
  // Each table of a multi-table pipeline keeps its own watermarks under its own state name.
  singleTableOnly(pipeline, `etlctl watermark ${params.action} (each table keeps its own watermarks)`);
  if (params.action === 'show') return view(store, pipeline, await engine.committedInDestination(pipeline));
  if (!usesWatermarks(pipeline.config)) {
    throw new EtlError(
      'ILLEGAL_STATE',
      `pipeline ${pipeline.name} keeps no watermark (mode ${pipeline.config.load.mode}${pipeline.config.load.cursor === undefined ? ', no cursor' : ''})`,
    );
  }
  checkShard(pipeline, params.shard);
  const stored = store.getWatermarks(pipeline.name);
  const scope = params.shard === undefined ? 'every shard' : `shard ${params.shard}`;
  const inScope = (shard: string): boolean => params.shard === undefined || shard === params.shard;
  const kept = stored.filter((w) => !inScope(w.shard));
  if (params.action === 'reset') {
    const destination = await engine.committedInDestination(pipeline);
    const committed = destination ?? 0;
    const from =
      pipeline.config.load.start_from === undefined
        ? 'the beginning'
        : `start_from ${String(pipeline.config.load.start_from)}`;
    store.replaceWatermarks(pipeline.name, committed, kept, {
      action: 'reset',
      actor,
      shards: stored
        .filter((w) => inScope(w.shard))
        .map((w) => ({ shard: w.shard, old: w.value, new: null })),
      detail: `${scope}: watermark removed; the next run reads from ${from}; destination sequence ${committed}`,
    });
    return view(store, pipeline, destination);
  }
  if (params.value === undefined)
    throw new EtlError(
      'USAGE',
      'watermark set needs a VALUE: the cursor value the destination is complete up to',
    );
  const [value] = (await engine.cursorValues(pipeline, [params.value])).values;
  if (value === undefined) throw new EtlError('INTERNAL', 'the source returned no cursor value');
  const destination = await engine.committedInDestination(pipeline);
  const committed = destination ?? 0;
  const changed: Omit<Watermark, 'updatedAt' | 'sequence'>[] = shardsOf(pipeline)
    .filter(inScope)
    .map((shard) => ({ shard, value, boundary: [ALL_LOADED_AT_OR_BELOW], identity: null }));
  store.replaceWatermarks(pipeline.name, committed, [...kept, ...changed], {
    action: 'set',
    actor,
    shards: changed.map((w) => ({
      shard: w.shard,
      old: stored.find((s) => s.shard === w.shard)?.value ?? null,
      new: w.value,
    })),
    detail: `${scope} set to ${value}: rows at or below it count as loaded; destination sequence ${committed}`,
  });
  return view(store, pipeline, destination);
}
