import type { z } from 'zod';
import { EtlError } from '../../shared/errors.js';

/**
 * The version of every `etlctl --json` document, its `"schema"` key. It changes only when a key a
 * script may rely on is removed, renamed or changes meaning; new keys are added without a change
 * (docs/etlctl.md, "JSON output").
 */
export const JSON_SCHEMA_VERSION = 1;

/** What a verb prints with --json, for the printer and for docs/etlctl.md. */
export interface JsonSpec {
  /** The document's fields besides "schema", as the protocol defines them (a list: its items). */
  readonly shape: z.ZodType;
  /** A list result is printed as `{"schema": 1, "<listKey>": [...]}`. */
  readonly listKey?: string;
  /** One document per line (NDJSON), as `logs` prints its lines. */
  readonly perLine?: boolean;
  /** Another document, printed under an option (`start --wait`). */
  readonly variants?: readonly { readonly when: string; readonly shape: z.ZodType }[];
}

/** `value` as a versioned document: `{"schema": 1, ...value}`, a list under `listKey`. */
export function jsonDocument(value: unknown, listKey: string | undefined): Record<string, unknown> {
  if (Array.isArray(value)) {
    if (listKey === undefined)
      throw new EtlError('INTERNAL', 'a list was printed as JSON by a verb without a listKey');
    return { schema: JSON_SCHEMA_VERSION, [listKey]: value };
  }
  if (typeof value !== 'object' || value === null)
    throw new EtlError('INTERNAL', `a ${typeof value} was printed as a JSON document`);
  if ('schema' in value)
    throw new EtlError('INTERNAL', 'a JSON document has its own "schema" key, which is the version');
  return { schema: JSON_SCHEMA_VERSION, ...value };
}

/** The document an error is printed as on stderr under --json. */
export function jsonErrorDocument(error: EtlError, message: string): Record<string, unknown> {
  return { schema: JSON_SCHEMA_VERSION, error: { ...error.toJSON(), message } };
}
