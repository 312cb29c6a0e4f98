import { isMap, isNode, isScalar, LineCounter, parseDocument, type Document } from 'yaml';
import type { z } from 'zod';
import { didYouMean } from '../did-you-mean.js';
import { knownKeysAt } from './schema-keys.js';

/** One problem in one file, with the place an editor can jump to. */
export interface ConfigProblem {
  readonly file: string;
  readonly line: number;
  readonly column: number;
  /** Dotted field path (`source.shards[1].port`), empty for the whole file. */
  readonly path: string;
  readonly message: string;
}

export function formatProblem(problem: ConfigProblem): string {
  const where = `${problem.file}:${problem.line}:${problem.column}`;
  return problem.path === '' ? `${where} ${problem.message}` : `${where} ${problem.path}: ${problem.message}`;
}

/**
 * A problem line (`formatProblem`'s text) read back into its parts, for `--json` output: file,
 * line, column, the field's dotted path (empty for the whole file) and the message. A text of
 * another form (a message without a location) keeps only its message.
 */
export function parseProblemText(text: string): ConfigProblem & { readonly text: string } {
  const located = /^(.+?):(\d+):(\d+) (.*)$/s.exec(text);
  if (located === null) return { text, file: '', line: 0, column: 0, path: '', message: text };
  const [, file = '', line = '0', column = '0', rest = ''] = located;
  // A field path has no spaces and is followed by ": "; a message alone starts with words.
  const field = /^([^\s:]+): (.*)$/s.exec(rest);
  return {
    text,
    file,
    line: Number(line),
    column: Number(column),
    path: field?.[1] ?? '',
    message: field?.[2] ?? rest,
  };
}

export type ParsedConfig<T> =
  | { readonly ok: true; readonly value: T }
  | { readonly ok: false; readonly problems: readonly ConfigProblem[] };

type PathSegment = string | number;

export function formatPath(path: readonly PathSegment[]): string {
  let out = '';
  for (const segment of path) {
    if (typeof segment === 'number') out += `[${segment}]`;
    else out += out === '' ? segment : `.${segment}`;
  }
  return out;
}

/** A YAML file read without errors: its document (for positions) and its plain data. */
export interface YamlSource {
  readonly file: string;
  readonly doc: Document;
  readonly data: unknown;
  /** Line and column of the deepest node that exists on `path` (a missing key points at its parent). */
  position(path: readonly PathSegment[]): Position;
  /** Line and column of a source offset (a node's `range[0]`). */
  positionAt(offset: number): Position;
}

export interface Position {
  readonly line: number;
  readonly column: number;
}

export type ReadYaml =
  | { readonly ok: true; readonly source: YamlSource }
  | { readonly ok: false; readonly problems: readonly ConfigProblem[] };

/** Parses YAML text, keeping node positions; broken YAML is reported with its position. */
export function readYaml(file: string, text: string): ReadYaml {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true });
  const at = (offset: number): Position => {
    const pos = lineCounter.linePos(offset);
    return { line: pos.line, column: pos.col };
  };
  if (doc.errors.length > 0) {
    return {
      ok: false,
      problems: doc.errors.map((error) => ({
        file,
        ...at(error.pos[0]),
        path: '',
        message: `invalid YAML: ${error.message.split('\n')[0] ?? error.code}`,
      })),
    };
  }
  const data: unknown = doc.toJS({ maxAliasCount: 100 });
  return {
    ok: true,
    source: { file, doc, data: data ?? {}, position: (path) => at(offsetOf(doc, path)), positionAt: at },
  };
}

/** The source offset of the deepest existing node on `path` (a missing key points at its parent). */
function offsetOf(doc: Document, path: readonly PathSegment[]): number {
  for (let depth = path.length; depth >= 0; depth--) {
    const node: unknown = depth === 0 ? doc.contents : doc.getIn(path.slice(0, depth), true);
    if (isNode(node) && node.range) return node.range[0];
  }
  return 0;
}

/**
 * Validates a read YAML file (or `data` derived from it) with a zod schema, reporting every
 * problem of the file at once with line:column positions taken from the YAML nodes.
 */
export function validateYaml<S extends z.ZodType>(
  source: YamlSource,
  schema: S,
  data: unknown = source.data,
): ParsedConfig<z.output<S>> {
  const result = schema.safeParse(data);
  if (result.success) return { ok: true, value: result.data };
  const { file, doc } = source;
  const problems = result.error.issues.flatMap((issue): ConfigProblem[] => {
    const path = issue.path.filter((p): p is PathSegment => typeof p !== 'symbol');
    if (issue.code === 'unrecognized_keys') return unknownKeyProblems(source, schema, data, path, issue.keys);
    return [
      {
        file,
        ...source.position(path),
        path: formatPath(path),
        message: describeIssue(issue, doc, path),
      },
    ];
  });
  problems.sort((a, b) => a.line - b.line || a.column - b.column);
  return { ok: false, problems };
}

/** Parses YAML text and validates it with a zod schema (`readYaml`, then `validateYaml`). */
export function parseYamlWithSchema<S extends z.ZodType>(
  file: string,
  text: string,
  schema: S,
): ParsedConfig<z.output<S>> {
  const read = readYaml(file, text);
  return read.ok ? validateYaml(read.source, schema) : read;
}

/**
 * One problem per unknown field, at the field's own line (not its parent mapping's first line),
 * with the known field it was probably meant to be.
 */
function unknownKeyProblems(
  source: YamlSource,
  schema: z.ZodType,
  data: unknown,
  path: readonly PathSegment[],
  keys: readonly string[],
): ConfigProblem[] {
  const known = knownKeysAt(schema, path, data);
  return keys.map((key) => {
    const node: unknown = source.doc.getIn(path, true);
    const pair = isMap(node)
      ? node.items.find((item) => isScalar(item.key) && item.key.value === key)
      : undefined;
    const keyNode: unknown = pair?.key;
    const at = isNode(keyNode) && keyNode.range ? source.positionAt(keyNode.range[0]) : source.position(path);
    // `{ type: decimal(18,2) }` in a flow mapping splits at the comma; say so instead of puzzling.
    const hint = /^\d+\s*\)$/.test(key)
      ? ' (a comma inside { … } splits decimal(p,s): quote it, type: "decimal(18,2)")'
      : didYouMean(key, known);
    return {
      file: source.file,
      ...at,
      path: formatPath(path),
      message: `unknown field "${key}"${hint}`,
    };
  });
}

function valueAt(doc: Document, path: readonly PathSegment[]): unknown {
  const node: unknown = doc.getIn(path, true);
  return isNode(node) ? (node.toJSON() as unknown) : undefined;
}

function describeValue(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (typeof value === 'string') return JSON.stringify(value);
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'a mapping';
  return typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint'
    ? String(value)
    : typeof value;
}

/** Turns a zod issue into the sentence an operator needs: what was expected and what was found. */
function describeIssue(issue: z.core.$ZodIssue, doc: Document, path: readonly PathSegment[]): string {
  const got = (): string => describeValue(valueAt(doc, path));
  switch (issue.code) {
    case 'invalid_value':
      return `expected one of ${issue.values.map((v) => String(v)).join(' | ')}, got ${got()}`;
    case 'invalid_type':
      if (valueAt(doc, path) === undefined && !doc.hasIn(path))
        return `required field is missing (expected ${issue.expected})`;
      // A schema's own wording ("expected a duration such as 5s…") beats zod's generic one.
      return issue.message.startsWith('Invalid input')
        ? `expected ${issue.expected}, got ${got()}`
        : `${issue.message}, got ${got()}`;
    case 'invalid_union': {
      // A discriminated union with no matching branch reports no nested errors.
      if (issue.errors.length === 0) return `expected a known type, got ${got()}`;
      return `${issue.message}, got ${got()}`;
    }
    case 'too_small':
      return issue.origin === 'array'
        ? `expected at least ${String(issue.minimum)} item(s)`
        : issue.origin === 'string'
          ? `expected a non-empty text`
          : `expected at least ${String(issue.minimum)}, got ${got()}`;
    case 'too_big':
      return `expected at most ${String(issue.maximum)}, got ${got()}`;
    case 'invalid_format':
      return `${issue.message.startsWith('Invalid') ? `expected ${issue.format}` : issue.message}, got ${got()}`;
    default:
      return issue.message;
  }
}
