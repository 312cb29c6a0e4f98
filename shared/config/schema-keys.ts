/**
 * The field names a zod schema accepts at a place in a document, so an unknown field can be met
 * with the known one it was probably meant to be. zod's `unrecognized_keys` issue names the
 * unknown keys only; this walks the schema along the path to find the known ones.
 */
import { z } from 'zod';

type Segment = string | number;

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The schemas a value at this place may be checked against, with wrappers (optional, default, transform…) peeled off. */
function unwrap(schema: z.ZodType, data: unknown): z.ZodType[] {
  if (schema instanceof z.ZodOptional || schema instanceof z.ZodNullable || schema instanceof z.ZodDefault)
    return unwrap(schema.unwrap() as z.ZodType, data);
  if (schema instanceof z.ZodPrefault || schema instanceof z.ZodReadonly || schema instanceof z.ZodCatch)
    return unwrap(schema._zod.def.innerType as z.ZodType, data);
  if (schema instanceof z.ZodPipe) return unwrap(schema.in as z.ZodType, data);
  if (schema instanceof z.ZodIntersection)
    return [
      ...unwrap(schema._zod.def.left as z.ZodType, data),
      ...unwrap(schema._zod.def.right as z.ZodType, data),
    ];
  if (schema instanceof z.ZodUnion) {
    const options = (schema.options as readonly z.ZodType[]).flatMap((o) => unwrap(o, data));
    // A discriminated union: the branch the document's `type` names, when one does.
    const type = isRecord(data) ? data.type : undefined;
    const chosen = options.filter((o) => {
      if (!(o instanceof z.ZodObject)) return false;
      const literal: unknown = o.shape.type;
      return literal instanceof z.ZodLiteral && literal.values.has(type as never);
    });
    return chosen.length > 0 ? chosen : options;
  }
  return [schema];
}

/** The schemas of the value at `path` in `data` (several when a union leaves it open). */
function schemasAt(schema: z.ZodType, path: readonly Segment[], data: unknown): z.ZodType[] {
  let current = unwrap(schema, data);
  let value = data;
  for (const segment of path) {
    value =
      isRecord(value) || Array.isArray(value) ? (value as Record<Segment, unknown>)[segment] : undefined;
    const next: z.ZodType[] = [];
    for (const s of current) {
      if (s instanceof z.ZodObject && typeof segment === 'string') {
        const field = (s.shape as Record<string, z.ZodType | undefined>)[segment];
        if (field !== undefined) next.push(field);
      } else if (s instanceof z.ZodArray && typeof segment === 'number') {
        next.push(s.element as z.ZodType);
      } else if (s instanceof z.ZodRecord && typeof segment === 'string') {
        next.push(s._zod.def.valueType as z.ZodType);
      }
    }
    current = next.flatMap((s) => unwrap(s, value));
  }
  return current;
}

/** Every field name the schema accepts for the mapping at `path` (empty when it is not a mapping). */
export function knownKeysAt(schema: z.ZodType, path: readonly Segment[], data: unknown): string[] {
  const keys = new Set<string>();
  for (const s of schemasAt(schema, path, data))
    if (s instanceof z.ZodObject) for (const key of Object.keys(s.shape)) keys.add(key);
  return [...keys];
}
