/**
 * The tables of a multi-table pipeline as pipelines of their own ("members"): each selected table
 * becomes a single-table pipeline config — the file's settings, the table's overrides from
 * `tables:`, its primary key as the default key, the destination template rendered — loaded under
 * the state name `<pipeline>/<table>` (or `<pipeline>/<shard>/<table>` when the template uses
 * {shard}). That name cannot be a pipeline's own (pipeline names have no `/`), so each table has its
 * own sequence, watermarks, schema history and exactly-once commit, exactly as a one-table
 * pipeline would, and the engine loads it with the code every pipeline uses.
 */
import type { LoadedPipeline } from '../../shared/config/pipeline-files.js';
import { EtlError } from '../../shared/errors.js';
import {
  SHARD_COLUMN,
  type DatabaseSourceKind,
  type DestinationConfig,
  type PipelineConfig,
} from '../../shared/config/pipeline-schema.js';
import { renderTemplate, templatePlaceholders } from '../../shared/config/tables-schema.js';
import { parseQualifiedName } from '../../shared/qualified-name.js';
import { formatSourceTable, type NameMatching, type SourceTable } from '../../shared/table-patterns.js';

/**
 * What discovery learned of one selected table: its column names (in table order) and primary
 * key, or the error describing it raised (no permission, a table dropped meanwhile): that table
 * fails, the others load.
 */
export type DiscoveredTable =
  | {
      readonly table: SourceTable;
      readonly columns: readonly string[];
      readonly primaryKey: readonly string[] | null;
      /**
       * How the member's source names the table when that differs from its label: a MariaDB/MySQL
       * table of the connection's own database is read unqualified, because shards are databases
       * and each shard must read the table in its own one (qualified, every shard would read the
       * first shard's database, where discovery found it).
       */
      readonly readAs?: string;
    }
  | { readonly table: SourceTable; readonly error: EtlError };

export interface TableMember {
  /** The table as `source.table` would name it (`public."Order Items"`). */
  readonly table: string;
  /** The shard this member reads (a {shard} template), or null: every shard. */
  readonly shard: string | null;
  /** The state name (`<pipeline>/<table>`). */
  readonly name: string;
  /** Where it loads (the rendered template), for plans and messages. */
  readonly target: string;
  /**
   * `target` as the destination tells names apart, for collisions: DuckDB ignores the case of
   * table names (quoted or not), so `OrderLines` and `orderlines` are one DuckDB table.
   */
  readonly targetKey: string;
  /**
   * The member pipeline; or why this table cannot load as configured (naming table and column),
   * with the error when describing it failed (its code and whether a retry may pass).
   */
  readonly loadable:
    { readonly pipeline: LoadedPipeline } | { readonly problem: string; readonly error?: EtlError };
}

type TableSettings = NonNullable<PipelineConfig['tables']>[string];

/** The dialect of a multi-table pipeline's source (only database sources have tables). */
export function tableDialect(config: PipelineConfig): DatabaseSourceKind {
  if (config.source.type === 'files')
    throw new Error(`pipeline ${config.name}: a files source has no tables (the schema refuses tables)`);
  return config.source.type;
}

export function isMultiTable(config: PipelineConfig): boolean {
  return config.source.tables !== undefined;
}

/**
 * Refuses what works per table only (a cursor's values, a backfill range, vacuum of one Delta
 * table) for a multi-table pipeline: USAGE naming the pipeline.
 */
export function singleTableOnly(pipeline: LoadedPipeline, what: string): void {
  if (isMultiTable(pipeline.config))
    throw new EtlError(
      'USAGE',
      `pipeline ${pipeline.name} loads several tables (source.tables): ${what} is not supported for multi-table pipelines yet`,
    );
}

/** The state name of one table (and shard) of a multi-table pipeline. */
export function memberName(pipeline: string, table: string, shard: string | null): string {
  return shard === null ? `${pipeline}/${table}` : `${pipeline}/${shard}/${table}`;
}

/** `tables:` entries by the table they name (1-part names are in the default schema). */
export function tableSettings(
  config: PipelineConfig,
  naming: NameMatching,
): {
  readonly find: (table: SourceTable) => TableSettings | undefined;
  readonly unused: (seen: readonly SourceTable[]) => string[];
} {
  const dialect = tableDialect(config);
  const entries = Object.entries(config.tables ?? {}).flatMap(([text, settings]) => {
    const parsed = parseQualifiedName(text, dialect);
    if (!parsed.ok) return [];
    const parts = parsed.parts;
    const { defaultSchema } = naming;
    const schema = parts.length >= 2 ? (parts[parts.length - 2] ?? defaultSchema) : defaultSchema;
    const name = parts[parts.length - 1] ?? '';
    return [{ text, schema, name, settings }];
  });
  const fold = (text: string): string => (naming.ignoreCase ? text.toLowerCase() : text);
  const same = (a: { schema: string; name: string }, b: SourceTable): boolean =>
    fold(a.schema) === fold(b.schema) && fold(a.name) === fold(b.name);
  return {
    find: (table) => entries.find((e) => same(e, table))?.settings,
    unused: (seen) => entries.filter((e) => !seen.some((t) => same(e, t))).map((e) => e.text),
  };
}

function destinationFor(
  destination: DestinationConfig,
  values: { schema: string; table: string; shard: string },
): { readonly destination: DestinationConfig; readonly target: string; readonly targetKey: string } {
  switch (destination.type) {
    case 'delta': {
      const path = renderTemplate(destination.path, values, 'path');
      return { destination: { ...destination, path }, target: path, targetKey: path };
    }
    case 'duckdb': {
      const table = renderTemplate(destination.table, values, 'identifier');
      return {
        destination: { ...destination, table },
        target: `${destination.path}:${table}`,
        targetKey: `${destination.path}:${table.toLowerCase()}`,
      };
    }
    case 'postgres':
    case 'bigquery': {
      // Case counts: PostgreSQL's names are quoted, BigQuery's are case-sensitive by default.
      const table = renderTemplate(destination.table, values, 'identifier');
      return { destination: { ...destination, table }, target: table, targetKey: table };
    }
  }
}

/** Whether the destination's template names each shard's table apart ({shard}). */
export function templateSplitsShards(config: PipelineConfig): boolean {
  const d = config.destination;
  return templatePlaceholders(d.type === 'delta' ? d.path : d.table).includes('shard');
}

/**
 * The member of one discovered table (and shard): its config, or why it cannot load. A table
 * without the file's cursor column falls back to the mode its `tables:` entry gives it; without one
 * it is refused, by name, as are a merge without a key and settings naming absent columns.
 */
export function memberOf(
  parent: LoadedPipeline,
  found: DiscoveredTable,
  settings: TableSettings | undefined,
  shard: string | null,
): TableMember {
  const config = parent.config;
  const dialect = tableDialect(config);
  const table = formatSourceTable(found.table, dialect);
  const name = memberName(parent.name, table, shard);
  const { destination, target, targetKey } = destinationFor(config.destination, {
    schema: found.table.schema,
    table: found.table.name,
    shard: shard ?? '',
  });
  const refuse = (problem: string): TableMember => ({
    table,
    shard,
    name,
    target,
    targetKey,
    loadable: { problem: `table ${table}: ${problem}` },
  });
  if ('error' in found)
    return {
      table,
      shard,
      name,
      target,
      targetKey,
      loadable: { problem: `table ${table}: ${found.error.message}`, error: found.error },
    };
  const columns = found.columns;
  const has = (column: string): boolean => columns.includes(column);
  const mode = settings?.mode ?? config.load.mode;
  let cursor = settings?.cursor ?? config.load.cursor;
  if (cursor !== undefined && !has(cursor)) {
    if (settings?.cursor !== undefined) return refuse(`no column "${cursor}" (tables.${table}.cursor)`);
    if (settings?.mode === undefined)
      return refuse(
        `no column "${cursor}" (load.cursor): give the table its own mode or cursor (tables: { ${table}: { mode: full } })`,
      );
    cursor = undefined;
  }
  if (mode === 'full') cursor = undefined;
  if (mode === 'incremental' && cursor === undefined)
    return refuse('incremental loads need a cursor column (load.cursor, or tables.<table>.cursor)');
  const key = settings?.key ?? config.source.key ?? found.primaryKey ?? undefined;
  if (mode === 'merge' && (key === undefined || key.length === 0))
    return refuse(`merge loads need a key: the table has no primary key; set tables.${table}.key`);
  for (const column of [...(key ?? []), ...(settings?.columns ?? [])]) {
    if (column !== SHARD_COLUMN && !has(column)) return refuse(`no column "${column}" (its key or columns)`);
  }
  const chunkRows = settings?.chunk_rows ?? config.source.chunk_rows;
  const shards =
    shard === null ? config.source.shards : config.source.shards?.filter((s) => s.name === shard);
  const { tables: _patterns, exclude: _exclude, ...source } = config.source;
  const memberConfig: PipelineConfig = {
    ...config,
    // The member's own name everywhere: its state (sequence, watermarks, plans) is kept under it,
    // and code that settles a commit reads the name from the config.
    name,
    source: {
      ...source,
      table: found.readAs ?? table,
      ...(shards === undefined ? {} : { shards }),
      ...(key === undefined ? { key: undefined } : { key: [...key] }),
      ...(settings?.columns === undefined ? {} : { columns: [...settings.columns] }),
      // A table without a key reads as one part: chunks are key ranges.
      chunk_rows: key === undefined ? undefined : chunkRows,
    },
    load: { ...config.load, mode, cursor },
    transform: settings?.transform ?? config.transform,
    destination,
    tables: undefined,
  };
  return {
    table,
    shard,
    name,
    target,
    targetKey,
    loadable: {
      pipeline: {
        name,
        file: parent.file,
        config: memberConfig,
        ...(parent.warnings === undefined ? {} : { warnings: parent.warnings }),
      },
    },
  };
}

/**
 * Members that would load into the same destination table (as the destination tells names apart):
 * refused together, by name (`<shard>/<table>` for a {shard} template, where the tables are alike).
 */
export function refuseCollisions(members: readonly TableMember[]): TableMember[] {
  const byTarget = new Map<string, TableMember[]>();
  for (const m of members) byTarget.set(m.targetKey, [...(byTarget.get(m.targetKey) ?? []), m]);
  return members.map((m) => {
    const sharing = byTarget.get(m.targetKey) ?? [];
    if (sharing.length < 2 || !('pipeline' in m.loadable)) return m;
    const names = sharing.map((s) => (s.shard === null ? s.table : `${s.shard}/${s.table}`));
    const targets = [...new Set(sharing.map((s) => s.target))];
    const destination =
      targets.length === 1
        ? `the same destination ${m.target}`
        : `one destination: ${targets.join(', ')} (DuckDB table names ignore case)`;
    return {
      ...m,
      loadable: {
        problem: `table ${m.table}: the destination template gives ${names.join(', ')} ${destination}`,
      },
    };
  });
}
