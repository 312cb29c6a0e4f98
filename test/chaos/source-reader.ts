/**
 * Reads a pipeline's source snapshot (every shard) as normalised rows in the model's column order,
 * right before its step starts. Transactions still open at that moment are invisible to it.
 *
 * Decisions: values are cast to text in SQL (`::text` under TimeZone UTC; `CAST(… AS CHAR)`),
 * then normalised by column kind; `_etl_shard` is the shard name for sharded sources.
 */
import { normaliseValue, type NormalRow } from '../conformance/normalise.js';
import type { PipelineSource } from './pipeline-source.js';
import { modelColumns, SHARD_COLUMN, sourceColumns } from './source-schema.js';

export async function readSnapshot(src: PipelineSource): Promise<NormalRow[]> {
  const columns = sourceColumns(src.spec, src.added);
  const model = modelColumns(src.spec, src.added);
  const select = columns
    .map((c) => {
      const q = src.target.quote(c.name);
      return src.target.kind === 'postgres' ? `${q}::text AS ${q}` : `CAST(${q} AS CHAR) AS ${q}`;
    })
    .join(', ');
  const out: NormalRow[] = [];
  for (const shard of src.shards) {
    const rows = await src.target.run(
      shard.database,
      `SELECT ${select} FROM ${src.target.quote(src.spec.name)}`,
    );
    for (const row of rows) {
      out.push(
        model.map((c) => (c.name === SHARD_COLUMN ? shard.name : normaliseValue(c.kind, row[c.name]))),
      );
    }
  }
  return out;
}
