/**
 * `connection: warehouse_pg` in a pipeline file: the name is replaced by the block connections.yaml
 * gives it before the file is validated, so everything after loading sees an ordinary connection.
 * An unknown or broken name is a problem of the pipeline file at the name's own line.
 */
import { didYouMean } from '../did-you-mean.js';
import type { ConnectionCatalog, NamedConnection } from './connections-file.js';
import type { ConfigProblem, YamlSource } from './yaml-document.js';

/** Where a pipeline file may name a connection instead of writing one out. */
const REFERENCE_PATHS: readonly (readonly ['source' | 'destination', 'connection'])[] = [
  ['source', 'connection'],
  ['destination', 'connection'],
];

export interface ResolvedReferences {
  /** The file's data with every name replaced by its block (a placeholder where a name failed). */
  readonly data: unknown;
  readonly problems: readonly ConfigProblem[];
  /** The named connections used, by the path that named them (`source.connection`). */
  readonly used: ReadonlyMap<string, NamedConnection>;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function unknownName(name: string, catalog: ConnectionCatalog): string {
  if (!catalog.exists)
    return `unknown connection "${name}": there is no ${catalog.file} to name it (write the connection out here, or define it there)`;
  const names = [...catalog.connections.keys(), ...catalog.broken.keys()].filter((n) => n !== '');
  return `unknown connection "${name}"${didYouMean(name, names)}: ${catalog.file} names ${names.length === 0 ? 'none' : names.join(', ')}`;
}

export function resolveConnectionRefs(source: YamlSource, catalog: ConnectionCatalog): ResolvedReferences {
  const problems: ConfigProblem[] = [];
  const used = new Map<string, NamedConnection>();
  if (!isRecord(source.data)) return { data: source.data, problems, used };
  const data: Record<string, unknown> = { ...source.data };
  for (const path of REFERENCE_PATHS) {
    const [section, field] = path;
    const parent = data[section];
    if (!isRecord(parent) || typeof parent[field] !== 'string') continue;
    const name = parent[field];
    const named = catalog.connections.get(name);
    let replacement: unknown = named?.written;
    if (named !== undefined) {
      used.set(path.join('.'), named);
    } else {
      const brokenBecause = catalog.broken.get(name);
      problems.push({
        file: source.file,
        ...source.position(path),
        path: path.join('.'),
        message:
          brokenBecause === undefined
            ? unknownName(name, catalog)
            : `connection "${name}" is invalid in ${catalog.file}: ${brokenBecause}`,
      });
      // An empty block validates, so the rest of the file is still checked and reported at once.
      replacement = {};
    }
    data[section] = { ...parent, [field]: structuredClone(replacement) };
  }
  return { data, problems, used };
}
