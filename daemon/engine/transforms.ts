/**
 * Column transforms compiled to DuckDB SQL over the raw staging table.
 *
 * Decisions (documented for operators):
 * - Output order: source columns in order; a source column that is a transform's input is
 *   consumed (not passed through) unless it is a `key` or `cursor` column, which always pass
 *   through so merge and watermarks keep working; a transform whose target has a source column's
 *   name replaces that column in place; other targets follow in transform order; then the
 *   metadata columns `_etl_run_id`, `_etl_loaded_at`, `_etl_pipeline` and (sharded sources only)
 *   `_etl_shard`.
 * - `split`: `index` is 0-based from the left; a negative index counts from the right (-1 = last
 *   part); an index past the end yields NULL. Non-text inputs are split on their text form.
 * - `join`: NULL inputs are skipped; when every input is NULL the result is NULL (not '').
 * - `type` casts the transform's result; a value that does not convert fails the run naming the
 *   target, the input column and the value (checked before the final table is built).
 */
import { EtlError } from '../../shared/errors.js';
import { loadedColumnNames, type ColumnNamePolicy } from '../../shared/column-names.js';
import { SHARD_COLUMN, type TransformConfig } from '../../shared/config/pipeline-schema.js';
import { parseTypeName, typeToString, type CanonicalType, type ColumnSchema } from '../../shared/types.js';
import { stagingDuckType } from '../duckdb/staging-types.js';
import { failWith, quoteIdent, quoteLiteral } from '../duckdb/duck-sql.js';

const METADATA_COLUMNS = ['_etl_run_id', '_etl_loaded_at', '_etl_pipeline', SHARD_COLUMN] as const;
/** The raw staging table's extra column holding the shard label (dropped by the final SELECT). */
export const RAW_SHARD_COLUMN = '__etld_shard';

/**
 * The loaded columns that say which row it is, the same in every run: all but the per-run
 * metadata (`_etl_shard` stays: sharded rows are told apart by it).
 */
export function contentColumns(columns: readonly ColumnSchema[]): string[] {
  const perRun: readonly string[] = METADATA_COLUMNS.filter((name) => name !== SHARD_COLUMN);
  return columns.map((c) => c.name).filter((name) => !perRun.includes(name));
}

export interface RunMetadata {
  readonly runId: string;
  readonly pipeline: string;
  readonly loadedAt: Date;
}

export interface CompiledTransforms {
  /** Final columns in order, metadata included, named as loaded (`column_names`). */
  readonly columns: readonly ColumnSchema[];
  /** The loaded name of a source column or transform target (itself under `keep`). */
  readonly loadedName: (name: string) => string;
  /** The SELECT list (expressions AS names) over the raw staging table. */
  selectList(meta: RunMetadata): string[];
}

export interface TransformOptions {
  readonly key: readonly string[] | undefined;
  readonly cursor: string | undefined;
  readonly sharded: boolean;
  /** The destination's `column_names` (shared/column-names.ts); default keep. */
  readonly columnNames?: ColumnNamePolicy;
}

function inputsOf(t: TransformConfig): string[] {
  if (t.from !== undefined) return [t.from];
  if (t.split !== undefined) return [t.split.column];
  return t.join?.columns ?? [];
}

/**
 * Checks that every column a transform reads exists among `available` (the pipeline's
 * `source.columns` or the described table) — before any data query runs.
 */
export function checkTransformInputs(
  available: readonly string[],
  transforms: readonly TransformConfig[],
): void {
  const known = new Set(available);
  for (const t of transforms) {
    for (const input of inputsOf(t)) {
      if (!known.has(input)) {
        throw new EtlError(
          'TRANSFORM_INVALID',
          `transform "${t.target}" reads unknown column "${input}" (source columns: ${available.join(', ')})`,
        );
      }
    }
  }
}

function castType(t: TransformConfig): CanonicalType | undefined {
  if (t.type === undefined) return undefined;
  const parsed = parseTypeName(t.type);
  if (parsed === undefined) {
    throw new EtlError('TRANSFORM_INVALID', `transform "${t.target}": unknown type "${t.type}"`);
  }
  return parsed;
}

interface CompiledColumn {
  readonly column: ColumnSchema;
  readonly expression: string;
}

function compileOne(t: TransformConfig, byName: Map<string, ColumnSchema>): CompiledColumn {
  const cast = castType(t);
  let expression: string;
  let type: CanonicalType;
  let nullable = true;
  let input: string;
  if (t.from !== undefined) {
    const source = byName.get(t.from);
    if (source === undefined)
      throw new EtlError('TRANSFORM_INVALID', `transform "${t.target}" reads unknown column "${t.from}"`);
    input = t.from;
    expression = quoteIdent(t.from);
    type = source.type;
    nullable = source.nullable;
  } else if (t.split !== undefined) {
    input = t.split.column;
    // DuckDB lists are 1-based and accept negative indexes from the end.
    const index = t.split.index >= 0 ? t.split.index + 1 : t.split.index;
    expression = `string_split(CAST(${quoteIdent(input)} AS VARCHAR), ${quoteLiteral(t.split.delimiter)})[${index}]`;
    type = { kind: 'text' };
  } else if (t.join !== undefined) {
    const parts = t.join.columns.map((c) => `CAST(${quoteIdent(c)} AS VARCHAR)`);
    const allNull = t.join.columns.map((c) => `${quoteIdent(c)} IS NULL`).join(' AND ');
    input = t.join.columns.join(', ');
    expression = `CASE WHEN ${allNull} THEN NULL ELSE concat_ws(${quoteLiteral(t.join.separator)}, ${parts.join(', ')}) END`;
    type = { kind: 'text' };
  } else {
    throw new EtlError('TRANSFORM_INVALID', `transform "${t.target}": give one of from, split or join`);
  }
  if (cast !== undefined) {
    // A value that does not convert fails the statement as it streams through, naming the
    // transform and column but never the value (DuckDB's own cast error quotes it).
    const target = stagingDuckType(cast);
    const failure = failWith(
      'TRANSFORM_INVALID',
      quoteLiteral(
        `transform "${t.target}": a value of column ${input} cannot be cast to ${typeToString(cast)}`,
      ),
    );
    expression = `coalesce(TRY_CAST(${expression} AS ${target}), CASE WHEN ${expression} IS NULL THEN NULL ELSE ${failure} END)`;
    type = cast;
  }
  return { column: { name: t.target, type, nullable }, expression };
}

export function compileTransforms(
  source: readonly ColumnSchema[],
  transforms: readonly TransformConfig[],
  options: TransformOptions,
): CompiledTransforms {
  const names = source.map((c) => c.name);
  for (const column of source) {
    if ((METADATA_COLUMNS as readonly string[]).includes(column.name) || column.name === RAW_SHARD_COLUMN) {
      throw new EtlError(
        'TRANSFORM_INVALID',
        `source column "${column.name}" collides with an etld metadata column`,
      );
    }
  }
  checkTransformInputs(names, transforms);
  const byName = new Map(source.map((c) => [c.name, c]));
  const pinned = new Set([...(options.key ?? []), ...(options.cursor === undefined ? [] : [options.cursor])]);
  const consumed = new Set(transforms.flatMap(inputsOf).filter((n) => !pinned.has(n)));
  const compiled = new Map(transforms.map((t) => [t.target, compileOne(t, byName)]));

  const out: CompiledColumn[] = [];
  const emitted = new Set<string>();
  for (const column of source) {
    const replacement = compiled.get(column.name);
    if (replacement !== undefined) {
      out.push(replacement);
      emitted.add(column.name);
    } else if (!consumed.has(column.name)) {
      out.push({ column, expression: quoteIdent(column.name) });
    }
  }
  for (const t of transforms) {
    const target = compiled.get(t.target);
    if (target !== undefined && !emitted.has(t.target)) out.push(target);
  }

  // The destination's column_names: every loaded column but the metadata ones, which are snake_case.
  const loaded = loadedColumnNames(
    out.map((c) => c.column.name),
    options.columnNames ?? 'keep',
    METADATA_COLUMNS,
  );
  if (!loaded.ok) throw new EtlError('CONFIG_INVALID', `destination.column_names: ${loaded.problem}`);
  const renamed = new Map(out.map((c, i) => [c.column.name, loaded.names[i] ?? c.column.name]));
  const named = out.map((c) => ({
    ...c,
    column: { ...c.column, name: renamed.get(c.column.name) ?? c.column.name },
  }));

  const metaColumns: ColumnSchema[] = [
    { name: '_etl_run_id', type: { kind: 'text' }, nullable: false },
    { name: '_etl_loaded_at', type: { kind: 'timestamptz' }, nullable: false },
    { name: '_etl_pipeline', type: { kind: 'text' }, nullable: false },
    ...(options.sharded
      ? [{ name: SHARD_COLUMN, type: { kind: 'text' }, nullable: false } satisfies ColumnSchema]
      : []),
  ];
  return {
    columns: [...named.map((c) => c.column), ...metaColumns],
    loadedName: (name) => renamed.get(name) ?? name,
    selectList(meta: RunMetadata): string[] {
      const list = named.map((c) => `${c.expression} AS ${quoteIdent(c.column.name)}`);
      list.push(`${quoteLiteral(meta.runId)} AS "_etl_run_id"`);
      list.push(`CAST(${quoteLiteral(meta.loadedAt.toISOString())} AS TIMESTAMPTZ) AS "_etl_loaded_at"`);
      list.push(`${quoteLiteral(meta.pipeline)} AS "_etl_pipeline"`);
      if (options.sharded) list.push(`${quoteIdent(RAW_SHARD_COLUMN)} AS ${quoteIdent(SHARD_COLUMN)}`);
      return list;
    },
  };
}
