/**
 * Operator-given cursor values (`etlctl watermark set`, `etlctl backfill --from --to`) checked
 * against the cursor column's type before they are stored or read with: the adapter refuses text
 * of the wrong shape, then the source itself reads each value as a literal of the column's
 * canonical type and writes it back the way it writes that column's high-water marks. So
 * `2026-01-01T00:00:00Z` for a timestamptz cursor is stored as `2026-01-01 00:00:00+00`, in the
 * form runs commit (and `load.lag` can subtract from it), and `2026-02-30` is refused by the
 * source's own calendar. (A literal carries no declared precision: MySQL writes a DATETIME(6)
 * column's maximum with six fractional digits and the same instant as a literal with none; every
 * comparison happens in the source, where the two are equal.) Nothing is read from the table.
 */
import type { LoadedPipeline } from '../../shared/config/pipeline-files.js';
import { EtlError, isEtlError } from '../../shared/errors.js';
import { typeToString, type BackfillRange, type ColumnSchema } from '../../shared/types.js';
import type { StateStore } from '../state/store.js';
import type { CursorValues } from './engine.js';
import { openDestination, prepareSource, type EngineDeps } from './run-setup.js';
import { usesWatermarks } from './watermarks.js';

/** Kinds whose order two literals give the same way the column does (text follows its collation). */
const ORDERED_KINDS: ReadonlySet<string> = new Set([
  'int16',
  'int32',
  'int64',
  'float32',
  'float64',
  'decimal',
  'date',
  'time',
  'timestamp',
  'timestamptz',
]);

function invalid(pipeline: string, cursor: ColumnSchema, value: string, why?: string): EtlError {
  const shown = value.length > 60 ? `${value.slice(0, 60)}…` : value;
  return new EtlError(
    'USAGE',
    `pipeline ${pipeline}: "${shown}" is not a valid value of its cursor column "${cursor.name}" (${typeToString(cursor.type)}${
      cursor.sourceType === undefined ? '' : `, ${cursor.sourceType} in the source`
    })${why === undefined ? '' : `: ${why}`}`,
  );
}

interface ReadValues extends CursorValues {
  /** Whether each value is below the next, as the source compares them (null: not checked). */
  readonly ascending: boolean | null;
}

async function readCursorValues(
  deps: EngineDeps,
  pipeline: LoadedPipeline,
  values: readonly string[],
  signal: AbortSignal | undefined,
): Promise<ReadValues> {
  const config = pipeline.config;
  if (!usesWatermarks(config)) {
    throw new EtlError(
      'ILLEGAL_STATE',
      `pipeline ${pipeline.name} keeps no watermark (mode ${config.load.mode}${config.load.cursor === undefined ? ', no load.cursor' : ''})`,
    );
  }
  const prepared = await prepareSource(config, deps, signal);
  try {
    const cursor = prepared.cursor;
    const shard = prepared.source.shards[0];
    if (cursor === undefined || shard === undefined)
      throw new EtlError(
        'INTERNAL',
        `pipeline ${pipeline.name}: a cursor pipeline without a cursor or shard`,
      );
    const { adapter } = prepared.source;
    const literals = values.map((value) => {
      try {
        return adapter.literal(value, cursor.type);
      } catch (error) {
        if (isEtlError(error) && error.code === 'CONFIG_INVALID') throw invalid(pipeline.name, cursor, value);
        throw error;
      }
    });
    const select = literals.map((literal) => adapter.renderText(literal, cursor));
    const ordered = ORDERED_KINDS.has(cursor.type.kind) && literals.length > 1;
    if (ordered) {
      const pairs = literals.slice(1).map((literal, i) => `${literals[i] ?? ''} < ${literal}`);
      select.push(`CASE WHEN ${pairs.join(' AND ')} THEN '1' ELSE '0' END`);
    }
    let rows: readonly (readonly (string | null)[])[];
    try {
      rows = await shard.driver.queryText(`SELECT ${select.join(', ')}`, signal);
    } catch (error) {
      // The source refused to read a value as the column's type (a day that does not exist, a
      // number out of range); connection failures and the like keep their own codes.
      if (isEtlError(error) && (error.code === 'SOURCE_DATA' || error.code === 'SOURCE_QUERY'))
        throw invalid(pipeline.name, cursor, values.join(' / '), error.message);
      throw error;
    }
    const row = rows[0] ?? [];
    const canonical = values.map((value, i) => {
      const text = row[i];
      if (text === null || text === undefined) throw invalid(pipeline.name, cursor, value);
      return text;
    });
    return { cursor, values: canonical, ascending: ordered ? row[values.length] === '1' : null };
  } finally {
    await prepared.source.close();
  }
}

export async function cursorValues(
  deps: EngineDeps,
  pipeline: LoadedPipeline,
  values: readonly string[],
  signal?: AbortSignal,
): Promise<CursorValues> {
  const { cursor, values: canonical } = await readCursorValues(deps, pipeline, values, signal);
  return { cursor, values: canonical };
}

function shardsOf(pipeline: LoadedPipeline): string[] {
  return pipeline.config.source.shards?.map((s) => s.name) ?? ['default'];
}

export async function checkBackfill(
  deps: EngineDeps & { readonly store: StateStore },
  pipeline: LoadedPipeline,
  range: BackfillRange,
  signal?: AbortSignal,
): Promise<BackfillRange> {
  const name = pipeline.name;
  const shards = shardsOf(pipeline);
  if (range.shard !== null && !shards.includes(range.shard))
    throw new EtlError(
      'USAGE',
      `pipeline ${name} has no shard "${range.shard}" (shards: ${shards.join(', ')})`,
    );
  const { values, ascending, cursor } = await readCursorValues(
    deps,
    pipeline,
    [range.from, range.to],
    signal,
  );
  const [from, to] = values;
  if (from === undefined || to === undefined) throw new EtlError('INTERNAL', 'a range of two values');
  if (ascending === false) {
    throw new EtlError(
      'USAGE',
      `pipeline ${name}: the backfill range [${from}, ${to}) of cursor column "${cursor.name}" is empty: --from must be below --to`,
    );
  }
  const inScope = deps.store
    .getWatermarks(name)
    .filter((w) => range.shard === null || w.shard === range.shard);
  if (inScope.length === 0) {
    throw new EtlError(
      'ILLEGAL_STATE',
      `pipeline ${name}${range.shard === null ? '' : ` shard ${range.shard}`} has no watermark yet: there is nothing below it to backfill (its next run reads from ${
        pipeline.config.load.start_from === undefined
          ? 'the beginning'
          : `start_from ${String(pipeline.config.load.start_from)}`
      })`,
    );
  }
  if (pipeline.config.load.mode === 'incremental') {
    const destination = await openDestination(pipeline.config, deps, deps.logger);
    try {
      if (!destination.appendsMissing) {
        throw new EtlError(
          'ILLEGAL_STATE',
          `pipeline ${name} appends: a backfill must add only the rows ${destination.label} does not hold yet, which this destination cannot do; ` +
            'use merge mode, or start --full-refresh',
        );
      }
    } finally {
      await destination.close();
    }
  }
  return { from, to, shard: range.shard };
}
