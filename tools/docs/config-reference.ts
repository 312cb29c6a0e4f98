/**
 * The reference of a settings file (a pipeline file, etld.yaml) from its zod schema: one table
 * per mapping, in the order of the file's fields, each nested mapping in its own section.
 */
import type { z } from 'zod';
import { code, slug, table } from './markdown.js';
import {
  defaultText,
  objectShape,
  peel,
  typeText,
  variants,
  type ObjectRef,
  type Shape,
} from './zod-fields.js';

type Schema = z.core.$ZodType;

export interface FieldRow {
  readonly field: string;
  readonly type: string;
  readonly defaultValue: string;
  readonly description: string;
}

export interface Section {
  readonly title: string;
  readonly anchor: string;
  readonly description: string;
  readonly rows: FieldRow[];
}

const link = (section: Section): string => `[${section.title}](#${section.anchor})`;

/** Every section of `root`, the top level first, each mapping's sections after it. */
export function configSections(root: Schema, rootTitle: string, rootDescription: string): Section[] {
  const sections: Section[] = [];
  const seen = new Map<Shape, Section>();

  const visit = (shape: Shape, title: string, path: string, description: string): Section => {
    const section: Section = { title, anchor: slug(title), description, rows: [] };
    sections.push(section);
    seen.set(shape, section);
    const later: (() => void)[] = [];
    for (const [name, schema] of Object.entries(shape)) {
      const peeled = peel(schema);
      const isList = peeled.core._zod.def.type === 'array';
      const childPath = `${path === '' ? '' : `${path}.`}${name}${isList ? '[]' : ''}`;
      const ref: ObjectRef = (childShape, core) => {
        const byKey = variants(core);
        if (byKey) {
          return byKey.variants
            .map(([value, variant]) => {
              const variantShape = objectShape(peel(variant).core) ?? {};
              const variantTitle = `${code(childPath)} with ${code(`${byKey.key}: ${value}`)}`;
              const target: Section = seen.get(variantShape) ?? {
                title: variantTitle,
                anchor: slug(variantTitle),
                description: '',
                rows: [],
              };
              if (!seen.has(variantShape))
                later.push(() => {
                  visit(variantShape, variantTitle, childPath, peel(variant).description);
                });
              return `[${code(value)}](#${target.anchor})`;
            })
            .join(', ');
        }
        const existing = seen.get(childShape);
        if (existing) return `the fields of ${link(existing)}`;
        const childTitle = code(childPath);
        later.push(() => {
          visit(childShape, childTitle, childPath, peeled.description);
        });
        return `[its fields](#${slug(childTitle)})`;
      };
      const type = typeText(peeled, ref);
      const required = !peeled.optional && !peeled.hasDefault;
      section.rows.push({
        field: code(name),
        type,
        defaultValue: required
          ? '**required**'
          : (defaultText(peeled) ?? (peeled.hasDefault ? "its fields' defaults" : '—')),
        description: peeled.description,
      });
    }
    for (const next of later) next();
    return section;
  };

  const shape = objectShape(peel(root).core);
  if (shape === null) throw new Error('the root of a settings schema must be a mapping');
  visit(shape, rootTitle, '', rootDescription);
  return sections;
}

export function renderSections(sections: readonly Section[]): string {
  return sections
    .map((section) =>
      [
        `## ${section.title}`,
        '',
        ...(section.description === '' ? [] : [`${section.description}.`, '']),
        table(
          ['Field', 'Type', 'Default', 'Description'],
          section.rows.map((r) => [r.field, r.type, r.defaultValue, r.description]),
        ),
        '',
      ].join('\n'),
    )
    .join('\n');
}
