/**
 * `source.tables` / `source.exclude` patterns: a `source.table` name (shared/qualified-name.ts:
 * the same quoting and folding) whose parts may hold the wildcards `*` (any run of characters,
 * none included) and `?` (exactly one character), quoted or not. A pattern is `table` (the
 * connection's default schema) or `schema.table`; each part is matched on its own, so a wildcard
 * never reaches across the dot between schema and table (a dot inside a quoted name is just a
 * character of that name). Matching is exact after folding: what the catalog spells is what counts.
 */
import { parseQualifiedName, type IdentifierDialect } from './qualified-name.js';

/** A base table as the source's catalog spells it. */
export interface SourceTable {
  readonly schema: string;
  readonly name: string;
}

export interface TablePattern {
  /** The pattern as written, for messages. */
  readonly text: string;
  /** The schema part (folded, quotes removed); null for a 1-part pattern (the default schema). */
  readonly schema: string | null;
  /** The table part (folded, quotes removed). */
  readonly name: string;
}

export type ParsedTablePattern =
  { readonly ok: true; readonly pattern: TablePattern } | { readonly ok: false; readonly reason: string };

const WILDCARDS = /[*?]/;

/** Parses one include or exclude pattern of `dialect`; never throws. */
export function parseTablePattern(text: string, dialect: IdentifierDialect): ParsedTablePattern {
  const parsed = parseQualifiedName(text, dialect);
  if (!parsed.ok) return parsed;
  const [first, second, third] = parsed.parts;
  if (third !== undefined || first === undefined) {
    const shape = dialect === 'mysql' ? 'table or database.table' : 'table or schema.table';
    return {
      ok: false,
      reason: `${parsed.parts.length} name parts; a table pattern has 1 or 2 (${shape}): a pattern cannot name another database`,
    };
  }
  return {
    ok: true,
    pattern:
      second === undefined ? { text, schema: null, name: first } : { text, schema: first, name: second },
  };
}

/** True when the pattern names exactly one table (no `*` or `?` in any part). */
export function isTablePatternLiteral(pattern: TablePattern): boolean {
  return !WILDCARDS.test(pattern.name) && (pattern.schema === null || !WILDCARDS.test(pattern.schema));
}

/**
 * Glob match of one name part, by code point (so `?` is one character even outside the BMP).
 * Only the last `*` seen needs retrying (one character further each time): with no other
 * operators that is complete, O(pattern × name) at worst, and needs no RegExp escaping.
 */
function globMatches(glob: string, text: string): boolean {
  const g = [...glob];
  const t = [...text];
  let gi = 0;
  let ti = 0;
  let star = -1;
  let resume = 0;
  while (ti < t.length) {
    if (gi < g.length && (g[gi] === '?' || (g[gi] !== '*' && g[gi] === t[ti]))) {
      gi++;
      ti++;
    } else if (gi < g.length && g[gi] === '*') {
      star = gi++;
      resume = ti;
    } else if (star !== -1) {
      gi = star + 1;
      ti = ++resume;
    } else {
      return false;
    }
  }
  while (g[gi] === '*') gi++;
  return gi === g.length;
}

/** How names compare: as written, or (a source that resolves names whatever their case) folded. */
export interface NameMatching {
  readonly defaultSchema: string;
  readonly ignoreCase: boolean;
}

/** Whether `table` matches `pattern`; a 1-part pattern only matches tables of the default schema. */
export function matchesTablePattern(
  pattern: TablePattern,
  table: SourceTable,
  naming: NameMatching,
): boolean {
  const fold = (text: string): string => (naming.ignoreCase ? text.toLowerCase() : text);
  const schemaMatches =
    pattern.schema === null
      ? fold(table.schema) === fold(naming.defaultSchema)
      : globMatches(fold(pattern.schema), fold(table.schema));
  return schemaMatches && globMatches(fold(pattern.name), fold(table.name));
}

/** Code-unit order (schema, then name): the same on every machine, whatever the locale. */
export function compareSourceTables(a: SourceTable, b: SourceTable): number {
  if (a.schema !== b.schema) return a.schema < b.schema ? -1 : 1;
  if (a.name !== b.name) return a.name < b.name ? -1 : 1;
  return 0;
}

/**
 * The tables matching at least one `include` pattern and no `exclude` pattern, without
 * duplicates, sorted by schema then name.
 */
export function selectTables(
  tables: readonly SourceTable[],
  include: readonly TablePattern[],
  exclude: readonly TablePattern[],
  naming: NameMatching,
): SourceTable[] {
  const seen = new Set<string>();
  const selected: SourceTable[] = [];
  for (const table of tables) {
    // JSON of the pair cannot collide, whatever characters the names hold.
    const key = JSON.stringify([table.schema, table.name]);
    if (seen.has(key)) continue;
    seen.add(key);
    if (!include.some((p) => matchesTablePattern(p, table, naming))) continue;
    if (exclude.some((p) => matchesTablePattern(p, table, naming))) continue;
    selected.push({ schema: table.schema, name: table.name });
  }
  return selected.sort(compareSourceTables);
}

/** Unquoted spellings each database reads back unchanged (anything else is quoted). */
const BARE: Readonly<Record<IdentifierDialect, (part: string) => boolean>> = {
  postgres: (part) => /^[a-z_][a-z0-9_$]*$/.test(part),
  mysql: (part) => /^[A-Za-z0-9_$]+$/.test(part) && !/^[0-9]+$/.test(part),
  sqlserver: (part) => /^[A-Za-z_][A-Za-z0-9_@#$]*$/.test(part),
};

function quotePart(part: string, dialect: IdentifierDialect): string {
  if (BARE[dialect](part)) return part;
  switch (dialect) {
    case 'postgres':
      return `"${part.replaceAll('"', '""')}"`;
    case 'mysql':
      return `\`${part.replaceAll('`', '``')}\``;
    case 'sqlserver':
      return `[${part.replaceAll(']', ']]')}]`;
  }
}

/** One name part as a user would write it, quoted only when the dialect needs it. */
export function formatNamePart(part: string, dialect: IdentifierDialect): string {
  return quotePart(part, dialect);
}

/**
 * `schema.name` as a user would write it in `source.table`: parts quoted only when the dialect
 * needs it, so parseQualifiedName reads it back to exactly `[schema, name]`.
 */
export function formatSourceTable(table: SourceTable, dialect: IdentifierDialect): string {
  return `${quotePart(table.schema, dialect)}.${quotePart(table.name, dialect)}`;
}
