/**
 * Which tables a multi-table pipeline loads now: the source's tables (listed on its first shard;
 * every shard is expected to hold the same ones) matching `source.tables` and no `source.exclude`
 * pattern, each described (column names) with its primary key, then made into members
 * (table-members.ts). Reads the catalog only, no row.
 */
import type { LoadedPipeline } from '../../shared/config/pipeline-files.js';
import { EtlError, toEtlError } from '../../shared/errors.js';
import {
  formatNamePart,
  formatSourceTable,
  isTablePatternLiteral,
  parseTablePattern,
  selectTables,
  type TablePattern,
} from '../../shared/table-patterns.js';
import { openSource } from './source-shards.js';
import type { EngineDeps } from './run-setup.js';
import {
  memberOf,
  refuseCollisions,
  tableDialect,
  tableSettings,
  templateSplitsShards,
  type DiscoveredTable,
  type TableMember,
} from './table-members.js';

export interface TableDiscovery {
  readonly members: readonly TableMember[];
  /** Literal names of source.tables that the source does not have (reported, never guessed). */
  readonly missing: readonly string[];
  /** `tables:` entries that name no selected table (a typo, or a table excluded). */
  readonly unusedSettings: readonly string[];
}

function patternsOf(texts: readonly string[] | undefined, pipeline: LoadedPipeline): TablePattern[] {
  const dialect = tableDialect(pipeline.config);
  return (texts ?? []).map((text) => {
    const parsed = parseTablePattern(text, dialect);
    if (!parsed.ok)
      throw new EtlError(
        'CONFIG_INVALID',
        `pipeline ${pipeline.name}: source.tables: ${text}: ${parsed.reason}`,
      );
    return parsed.pattern;
  });
}

export async function discoverTables(
  deps: EngineDeps,
  pipeline: LoadedPipeline,
  signal: AbortSignal | undefined,
): Promise<TableDiscovery> {
  const config = pipeline.config;
  const dialect = tableDialect(config);
  const include = patternsOf(config.source.tables, pipeline);
  const exclude = patternsOf(config.source.exclude, pipeline);
  const source = openSource(config, await deps.loadSource(dialect), deps.resolveConnection);
  try {
    await source.init(signal);
    const first = source.shards[0];
    if (first === undefined)
      throw new EtlError('CONFIG_INVALID', `pipeline ${pipeline.name} has no source shard`);
    const listing = await first.introspector.listTables(signal);
    const naming = { defaultSchema: listing.defaultSchema, ignoreCase: listing.namesIgnoreCase };
    const selected = selectTables(listing.tables, include, exclude, naming);
    const missing = (config.source.tables ?? []).filter((text) => {
      const parsed = parseTablePattern(text, dialect);
      return (
        parsed.ok &&
        isTablePatternLiteral(parsed.pattern) &&
        selectTables(listing.tables, [parsed.pattern], [], naming).length === 0
      );
    });
    // One catalog query at a time: the shard's introspector has one connection, and a driver
    // queues (node-postgres warns about) queries sent while another is running.
    const found: DiscoveredTable[] = [];
    for (const table of selected) {
      const relation = { table: formatSourceTable(table, dialect) };
      try {
        const columns = await first.introspector.describe(relation, signal);
        const primaryKey = await first.introspector.primaryKey(relation.table, signal);
        const ownDatabase = dialect === 'mysql' && table.schema === listing.defaultSchema;
        found.push({
          table,
          columns: columns.map((c) => c.name),
          primaryKey,
          ...(ownDatabase ? { readAs: formatNamePart(table.name, dialect) } : {}),
        });
      } catch (error) {
        if (signal?.aborted === true) throw error;
        found.push({ table, error: toEtlError(error) });
      }
    }
    const settings = tableSettings(config, naming);
    const shards = templateSplitsShards(config)
      ? (config.source.shards?.map((s) => s.name) ?? ['default'])
      : [null];
    const members = refuseCollisions(
      found.flatMap((table) =>
        shards.map((shard) => memberOf(pipeline, table, settings.find(table.table), shard)),
      ),
    );
    return { members, missing, unusedSettings: settings.unused(selected) };
  } finally {
    await source.close();
  }
}
