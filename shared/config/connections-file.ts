/**
 * Named connections: `connections.yaml` beside the pipelines directory maps names to connection
 * blocks (the fields of an inline `connection:`, secrets only through `password_env` /
 * `password_file`), so pipeline files can say `connection: warehouse_pg` instead of repeating
 * host, user and secret in every file (Sling's env.yaml). Read by the daemon at start-up and on
 * every reload, and by `etlctl validate` without a daemon.
 */
import { readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { z } from 'zod';
import { connectionSchema, type ConnectionConfig } from './common-schema.js';
import { formatProblem, readYaml, validateYaml, type Position } from './yaml-document.js';

export const CONNECTIONS_FILE_NAME = 'connections.yaml';

export const CONNECTION_NAME_RE = /^[A-Za-z0-9_-]+$/;

const connectionNameSchema = z
  .string()
  .regex(CONNECTION_NAME_RE, 'expected a connection name of letters, digits, _ and -');

/** The file as a whole: a mapping from connection names to connection blocks. */
export const connectionsFileSchema = z.record(connectionNameSchema, connectionSchema);

export interface NamedConnection {
  readonly name: string;
  readonly config: ConnectionConfig;
  /** The block as written (what a pipeline file naming it is validated with). */
  readonly written: unknown;
  /** Where a field of this block is written in connections.yaml (the block itself for a missing one). */
  position(field: string | undefined): Position;
}

export interface ConnectionCatalog {
  readonly file: string;
  /** False when there is no connections.yaml: every name is then unknown. */
  readonly exists: boolean;
  readonly connections: ReadonlyMap<string, NamedConnection>;
  /** Names whose blocks are invalid, each with its first problem. */
  readonly broken: ReadonlyMap<string, string>;
  /** Every problem of the file, as `file:line:col path: message`. */
  readonly problems: readonly string[];
}

/** connections.yaml beside a pipelines directory (`DIR/pipelines` → `DIR/connections.yaml`). */
export function connectionsFileFor(pipelinesDir: string): string {
  return join(dirname(pipelinesDir), CONNECTIONS_FILE_NAME);
}

function emptyCatalog(file: string, exists: boolean, problems: readonly string[]): ConnectionCatalog {
  return { file, exists, connections: new Map(), broken: new Map(), problems };
}

/**
 * Reads connections.yaml. A missing file is an empty catalog, not a problem (named connections
 * are optional); an invalid block is unusable while the file's other blocks stay usable.
 */
export async function loadConnectionsFile(file: string): Promise<ConnectionCatalog> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? 'unreadable';
    if (code === 'ENOENT') return emptyCatalog(file, false, []);
    return emptyCatalog(file, true, [`${file}:1:1 cannot read file (${code})`]);
  }
  const read = readYaml(file, text);
  if (!read.ok) return emptyCatalog(file, true, read.problems.map(formatProblem));
  const { source } = read;
  const checked = validateYaml(source, connectionsFileSchema);
  const problems = checked.ok ? [] : checked.problems;
  const broken = new Map<string, string>();
  for (const problem of problems) {
    const name = problem.path.split(/[.[]/)[0] ?? '';
    if (!broken.has(name)) broken.set(name, formatProblem(problem));
  }
  const connections = new Map<string, NamedConnection>();
  const data = source.data;
  if (typeof data === 'object' && data !== null && !Array.isArray(data) && !broken.has('')) {
    for (const [name, written] of Object.entries(data as Record<string, unknown>)) {
      if (broken.has(name)) continue;
      const parsed = connectionSchema.safeParse(written);
      if (!parsed.success) continue;
      connections.set(name, {
        name,
        config: parsed.data,
        written,
        position: (field) => source.position(field === undefined ? [name] : [name, field]),
      });
    }
  }
  return { file, exists: true, connections, broken, problems: problems.map(formatProblem) };
}
