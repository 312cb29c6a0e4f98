/**
 * Reads a zod schema as documentation: each field's type in an operator's words, whether it is
 * required, its default (durations and sizes written as in the files: `5s`, `10MB`), and its
 * `.describe()` text. Walks zod's definitions directly rather than its JSON Schema, which loses the
 * defaults of values parsed from text (a duration's default is a number of milliseconds).
 */
import { z } from 'zod';
import { UNIT_META_KEY } from '../../shared/config/common-schema.js';
import { formatDuration } from '../../shared/config/duration.js';
import { code } from './markdown.js';

type Schema = z.core.$ZodType;
type Def = z.core.$ZodTypeDef & Record<string, unknown>;
type Unit = 'duration' | 'size';

const defOf = (schema: Schema): Def => schema._zod.def as Def;

/** A field's schema with its wrappers (optional, default, nullable, transform…) peeled off. */
export interface Peeled {
  readonly core: Schema;
  readonly description: string;
  readonly optional: boolean;
  readonly nullable: boolean;
  readonly hasDefault: boolean;
  readonly defaultValue: unknown;
  readonly unit: Unit | null;
}

function metaOf(schema: Schema): Record<string, unknown> {
  return z.globalRegistry.get(schema) ?? {};
}

export function peel(schema: Schema): Peeled {
  let current = schema;
  let description = '';
  let optional = false;
  let nullable = false;
  let hasDefault = false;
  let defaultValue: unknown;
  let unit: Unit | null = null;
  for (;;) {
    const meta = metaOf(current);
    if (description === '' && typeof meta.description === 'string') description = meta.description;
    const u = meta[UNIT_META_KEY];
    if (unit === null && (u === 'duration' || u === 'size')) unit = u;
    const def = defOf(current);
    switch (def.type) {
      case 'optional':
        optional = true;
        current = def.innerType as Schema;
        continue;
      case 'default':
      case 'prefault':
        if (!hasDefault) {
          hasDefault = true;
          defaultValue = def.defaultValue;
        }
        current = def.innerType as Schema;
        continue;
      case 'nullable':
        nullable = true;
        current = def.innerType as Schema;
        continue;
      case 'readonly':
      case 'catch':
      case 'nonoptional':
        current = def.innerType as Schema;
        continue;
      case 'pipe':
        // What the file holds is the pipe's input (a transform's output is for the daemon).
        current = def.in as Schema;
        continue;
      default:
        return { core: current, description, optional, nullable, hasDefault, defaultValue, unit };
    }
  }
}

export type Shape = Readonly<Record<string, Schema>>;

/** The fields of an object schema, or of an intersection of objects (`connection` + `name`). */
export function objectShape(core: Schema): Shape | null {
  const def = defOf(core);
  if (def.type === 'object') return def.shape as Shape;
  if (def.type === 'intersection') {
    const left = objectShape(peel(def.left as Schema).core);
    const right = objectShape(peel(def.right as Schema).core);
    return left && right ? { ...left, ...right } : null;
  }
  return null;
}

/** Object variants of a discriminated union, by the discriminator's literal value. */
export function variants(core: Schema): { key: string; variants: [string, Schema][] } | null {
  const def = defOf(core);
  if (def.type !== 'union' || typeof def.discriminator !== 'string') return null;
  const key = def.discriminator;
  const options = def.options as Schema[];
  return {
    key,
    variants: options.map((option) => {
      const shape = objectShape(peel(option).core) ?? {};
      const literal = shape[key] ? defOf(peel(shape[key]).core).values : undefined;
      return [Array.isArray(literal) ? String(literal[0]) : '?', option];
    }),
  };
}

function numberRange(core: Schema): string {
  const json = z.toJSONSchema(core, { io: 'input', unrepresentable: 'any' }) as Record<string, unknown>;
  const kind = json.type === 'integer' ? 'integer' : 'number';
  const limit = (v: unknown): number | undefined =>
    typeof v === 'number' && Math.abs(v) < Number.MAX_SAFE_INTEGER ? v : undefined;
  const min = limit(json.minimum) ?? limit(json.exclusiveMinimum);
  const max = limit(json.maximum);
  const above = json.exclusiveMinimum !== undefined ? '>' : '≥';
  if (min !== undefined && max !== undefined) return `${kind}, ${min}–${max}`;
  if (min !== undefined) return `${kind} ${above} ${min}`;
  if (max !== undefined) return `${kind} ≤ ${max}`;
  return kind;
}

function stringType(core: Schema): string {
  const json = z.toJSONSchema(core, { io: 'input', unrepresentable: 'any' }) as Record<string, unknown>;
  if (json.format === 'email') return 'e-mail address';
  if (json.format === 'uri') return 'URL';
  if (typeof json.pattern === 'string') return `string matching ${code(json.pattern)}`;
  return 'string';
}

/** How a nested object is referred to from its field: a link to its section, or inline. */
export type ObjectRef = (shape: Shape, core: Schema) => string;

/** What a nested object is called: a mapping in a YAML file, an object in a JSON document. */
export type Noun = 'mapping' | 'object';

/** A field's type in words, e.g. `integer, 1–64`, ``one of `skip`, `queue` ``, `list of strings`. */
export function typeText(peeled: Peeled, objectRef: ObjectRef, noun: Noun = 'mapping'): string {
  const base = coreType(peeled.core, peeled.unit, objectRef, noun);
  return peeled.nullable ? `${base} or null` : base;
}

function coreType(core: Schema, unit: Unit | null, objectRef: ObjectRef, noun: Noun): string {
  if (unit === 'duration') return `duration (${code('30s')}, ${code('15m')}, ${code('1h30m')})`;
  if (unit === 'size') return `size (${code('512KB')}, ${code('10MB')}, or bytes)`;
  const def = defOf(core);
  const shape = objectShape(core);
  if (shape) return `${noun}: ${objectRef(shape, core)}`;
  switch (def.type) {
    case 'string':
      return stringType(core);
    case 'number':
      return numberRange(core);
    case 'boolean':
      return 'boolean';
    case 'enum':
      return `one of ${Object.values(def.entries as Record<string, string>)
        .map((v) => code(String(v)))
        .join(', ')}`;
    case 'literal':
      return (def.values as unknown[]).map((v) => code(String(v))).join(' or ');
    case 'array': {
      const element = peel(def.element as Schema);
      const elementShape = objectShape(element.core);
      if (elementShape) return `list of ${noun}s: ${objectRef(elementShape, element.core)}`;
      return `list of: ${typeText(element, objectRef, noun)}`;
    }
    case 'union': {
      const byKey = variants(core);
      if (byKey) return `${noun}, by ${code(byKey.key)}: ${objectRef({}, core)}`;
      // A mapping among other choices is small (`{ query: ... }`): shown in place.
      return (def.options as Schema[]).map((o) => typeText(peel(o), inlineObject, noun)).join('; or ');
    }
    case 'record':
      return `${noun} of names to ${typeText(peel(def.valueType as Schema), objectRef, noun)}`;
    case 'unknown':
    case 'any':
      return '—';
    default:
      return def.type;
  }
}

/** A mapping written in place: `{ expression: string }`. */
export const inlineObject: ObjectRef = (shape) =>
  `{ ${Object.entries(shape)
    .map(([key, schema]) => `${key}: ${typeText(peel(schema), inlineObject)}`)
    .join(', ')} }`;

function formatSize(bytes: number): string {
  for (const [unit, factor] of [
    ['GB', 1024 ** 3],
    ['MB', 1024 ** 2],
    ['KB', 1024],
  ] as const) {
    if (bytes >= factor && bytes % factor === 0) return `${bytes / factor}${unit}`;
  }
  return String(bytes);
}

/** The default as written in a file; null when it is an object (its fields show theirs). */
export function defaultText(peeled: Peeled): string | null {
  if (!peeled.hasDefault) return null;
  const value = peeled.defaultValue;
  if (typeof value === 'number' && peeled.unit === 'duration') return code(formatDuration(value));
  if (typeof value === 'number' && peeled.unit === 'size') return code(formatSize(value));
  if (Array.isArray(value)) return code(JSON.stringify(value));
  if (value === '') return code('""');
  if (typeof value === 'object' && value !== null) return null;
  return code(String(value));
}
