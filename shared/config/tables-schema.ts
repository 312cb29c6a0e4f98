/**
 * Multi-table pipelines (docs/multi-table.md): `source.tables` lists names and patterns, the
 * top-level `tables:` map overrides settings per table, and the destination names each table by a
 * template. The fields are defined here; pipeline-schema.ts places them and calls the checks.
 */
import { z } from 'zod';

const identifier = z.string().min(1, 'expected a column name');

/** The placeholders a destination template may use. */
export const TEMPLATE_PLACEHOLDERS = ['schema', 'table', 'shard'] as const;
export type TemplatePlaceholder = (typeof TEMPLATE_PLACEHOLDERS)[number];

export const tablePatternsFields = {
  tables: z
    .array(z.string().min(1, 'expected a table name or pattern'))
    .min(1)
    .optional()
    .describe(
      'Several tables in one pipeline (instead of table): names and patterns with * and ? (public.*, sales.order_*), schema-qualified where needed, parts quoted as in SQL',
    ),
  exclude: z
    .array(z.string().min(1, 'expected a table name or pattern'))
    .min(1)
    .optional()
    .describe('Tables that source.tables matches but the pipeline leaves alone (names and patterns)'),
};

/**
 * What one table of a multi-table pipeline may set for itself (the rest comes from the file);
 * pipeline-schema.ts adds `transform` (its schema lives there).
 */
export const tableOverrideFields = {
  key: z
    .array(identifier)
    .min(1)
    .optional()
    .describe("This table's row identity (default: source.key, else its primary key)"),
  cursor: identifier.optional().describe("This table's cursor column (default: load.cursor)"),
  mode: z
    .enum(['full', 'incremental', 'merge'])
    .optional()
    .describe(
      "This table's load mode (default: load.mode); a table without the cursor column needs one that fits, e.g. full",
    ),
  columns: z.array(identifier).min(1).optional().describe('The columns to read (default: all of the table)'),
  chunk_rows: z
    .number()
    .int()
    .positive()
    .optional()
    .describe('Split this table into key ranges of about this many rows (default: source.chunk_rows)'),
};

export const multiTableFields = {
  on_table_error: z
    .enum(['continue', 'fail_run'])
    .default('continue')
    .describe(
      'A multi-table run whose table fails: continue with the other tables (each commits on its own), or cancel the tables not yet committed',
    ),
  table_parallelism: z
    .number()
    .int()
    .min(1)
    .max(32)
    .default(2)
    .describe(
      'A multi-table run loads at most this many tables at once (each one is a run with its own staging memory)',
    ),
};

/** The placeholders `{…}` a text uses; unknown names are reported by `templateProblem`. */
export function templatePlaceholders(text: string): string[] {
  return [...text.matchAll(/\{([^{}]*)\}/g)].map((m) => m[1] ?? '');
}

/** Why `text` is not a usable destination template (or a single-table name with placeholders). */
export function templateProblem(text: string, multiTable: boolean): string | undefined {
  const used = templatePlaceholders(text);
  const unknown = used.find((name) => !(TEMPLATE_PLACEHOLDERS as readonly string[]).includes(name));
  if (unknown !== undefined)
    return `unknown placeholder {${unknown}}: a template may use {schema}, {table} and {shard}`;
  if (!multiTable) {
    return used.length > 0
      ? `placeholders ({${used[0] ?? ''}}) name tables of a multi-table pipeline: they need source.tables`
      : undefined;
  }
  return used.includes('table')
    ? undefined
    : 'a multi-table pipeline names each table in the destination: the template needs {table} (e.g. "{schema}_{table}")';
}

/**
 * The destination name of one table: placeholders replaced, each value made safe for where it
 * goes (`path`: no separators or `..` that would leave the lake directory; `identifier`: letters,
 * digits and _, as BigQuery table ids need).
 */
export function renderTemplate(
  text: string,
  values: Readonly<Record<TemplatePlaceholder, string>>,
  target: 'path' | 'name' | 'identifier',
): string {
  return text.replace(/\{(schema|table|shard)\}/g, (_, name: TemplatePlaceholder) => {
    const value = values[name];
    if (target === 'identifier') return value.replace(/[^A-Za-z0-9_]/g, '_');
    if (target === 'path') return value.replace(/[/\\\0]/g, '_').replace(/^\.\.?$/, '_');
    return value;
  });
}
