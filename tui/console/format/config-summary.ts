/**
 * A one-line summary of a pipeline's configuration for the detail view. The daemon sends the
 * parsed config as an open record, so every field is read defensively and secrets are never
 * looked at (only names of structural fields are picked).
 */

function field(record: unknown, ...path: string[]): unknown {
  let current: unknown = record;
  for (const key of path) {
    if (current === null || typeof current !== 'object' || Array.isArray(current)) return undefined;
    current = (current as Record<string, unknown>)[key];
  }
  return current;
}

function text(value: unknown): string | null {
  if (typeof value === 'string') return value;
  if (typeof value === 'number' && Number.isFinite(value)) return value.toLocaleString('en-US');
  if (Array.isArray(value) && value.every((v) => typeof v === 'string')) return value.join(', ');
  return null;
}

export function configSummary(config: Record<string, unknown> | null): string[] {
  if (config === null) return [];
  const parts: string[] = [];
  const add = (label: string, value: unknown): void => {
    const shown = text(value);
    if (shown !== null && shown !== '') parts.push(`${label} ${shown}`);
  };
  const table = field(config, 'source', 'table');
  add('table', table);
  if (table === undefined && field(config, 'source', 'query') !== undefined) parts.push('custom query');
  const shards = field(config, 'source', 'shards');
  if (Array.isArray(shards) && shards.length > 0) parts.push(`${shards.length} shards`);
  add('key', field(config, 'source', 'key'));
  add('cursor', field(config, 'load', 'cursor'));
  add('chunk_rows', field(config, 'source', 'chunk_rows'));
  add('parallelism', field(config, 'source', 'parallelism'));
  add('→ table', field(config, 'destination', 'table'));
  add('→ path', field(config, 'destination', 'path'));
  add('schema', field(config, 'schema_evolution'));
  add('retries', field(config, 'error_handling', 'max_retries'));
  return parts;
}
