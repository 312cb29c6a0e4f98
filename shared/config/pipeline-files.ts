/**
 * Pipeline files, read and validated the one way the daemon (its pipelines directory) and etlctl
 * (`validate` without a daemon) both use, so they never disagree on what is valid: the file scan,
 * named connections (connections.yaml), the schema, the load warnings, and the rule that decides
 * which of several files claiming one pipeline name keeps it (`claims.ts`).
 */
import { readdir, readFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { resolveConnectionRefs } from './connection-refs.js';
import { connectionsFileFor, loadConnectionsFile, type ConnectionCatalog } from './connections-file.js';
import { settleClaims, type Claim } from './claims.js';
import { pipelineSchema, type PipelineConfig } from './pipeline-schema.js';
import {
  pipelineWarnings,
  withoutFullModeLeftovers,
  type LoadChecks,
  type Locate,
} from './pipeline-warnings.js';
import { formatPath, formatProblem, readYaml, validateYaml, type ConfigProblem } from './yaml-document.js';

/** A valid pipeline file. */
export interface LoadedPipeline {
  readonly name: string;
  readonly file: string;
  readonly config: PipelineConfig;
  /** What the load noticed without refusing the file (`file:line:col path: message`). */
  readonly warnings?: readonly string[];
}

/** A file that does not load: every problem, as `file:line:col path: message`. */
export interface InvalidPipelineFile {
  /** The pipeline name it claims (`name@file` for a second file claiming a name another keeps). */
  readonly name: string;
  readonly file: string;
  readonly problems: readonly string[];
}

export type PipelineFileResult =
  | { readonly ok: true; readonly pipeline: LoadedPipeline; readonly nameAt: ConfigProblem }
  | {
      readonly ok: false;
      readonly file: string;
      readonly name: string;
      readonly nameAt: ConfigProblem;
      readonly problems: readonly ConfigProblem[];
    };

export interface PipelineDirectory {
  readonly valid: readonly LoadedPipeline[];
  readonly invalid: readonly InvalidPipelineFile[];
  /** connections.yaml and its own problems (each pipeline reports the names it could not use). */
  readonly connections: { readonly file: string; readonly problems: readonly string[] };
}

export interface LoadOptions {
  /** Pipeline name → the file that defined it before (the daemon's record); it keeps the name. */
  readonly owners?: ReadonlyMap<string, string>;
  readonly checks: LoadChecks;
}

/** Where the `name:` line of a file is, read from the text (the file may not parse). */
function nameLine(file: string, text: string): ConfigProblem {
  const lines = text.split('\n');
  const index = lines.findIndex((l) => /^name\s*:/.test(l));
  const column = index < 0 ? 1 : (/^name\s*:\s*/.exec(lines[index] ?? '')?.[0].length ?? 0) + 1;
  return { file, line: index < 0 ? 1 : index + 1, column, path: 'name', message: '' };
}

/** The pipeline name a broken file stands for: its `name:` if readable, else the file name. */
function fallbackName(file: string, text: string): string {
  const match = /^name:\s*["']?([a-z0-9_-]+)["']?\s*$/m.exec(text);
  return match?.[1] ?? basename(file).replace(/\.ya?ml$/, '');
}

/** Reads and validates one pipeline file; every problem of the file is reported at once. */
export async function loadPipelineFile(
  file: string,
  catalog: ConnectionCatalog,
  checks: LoadChecks,
): Promise<PipelineFileResult> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? 'unreadable';
    const problem = { file, line: 1, column: 1, path: '', message: `cannot read file (${code})` };
    return {
      ok: false,
      file,
      name: basename(file).replace(/\.ya?ml$/, ''),
      nameAt: problem,
      problems: [problem],
    };
  }
  const broken = (problems: readonly ConfigProblem[]): PipelineFileResult => ({
    ok: false,
    file,
    name: fallbackName(file, text),
    nameAt: nameLine(file, text),
    problems,
  });
  const read = readYaml(file, text);
  if (!read.ok) return broken(read.problems);
  const refs = resolveConnectionRefs(read.source, catalog);
  const parsed = validateYaml(read.source, pipelineSchema, refs.data);
  if (!parsed.ok || refs.problems.length > 0) {
    const problems = [...refs.problems, ...(parsed.ok ? [] : parsed.problems)];
    return broken(problems.sort((a, b) => a.line - b.line || a.column - b.column));
  }
  // A field of a named connection is written in connections.yaml: say so there.
  const locate: Locate = (path) => {
    const named = refs.used.get(path.slice(0, 2).join('.'));
    const field = path[2];
    if (named === undefined) return { file, ...read.source.position(path), path: formatPath(path) };
    return {
      file: catalog.file,
      ...named.position(typeof field === 'string' ? field : undefined),
      path: formatPath([named.name, ...path.slice(2)]),
    };
  };
  const config = parsed.value;
  const warnings = pipelineWarnings(config, checks, locate).map(formatProblem);
  return {
    ok: true,
    pipeline: { name: config.name, file, config: withoutFullModeLeftovers(config), warnings },
    nameAt: { file, ...read.source.position(['name']), path: 'name', message: '' },
  };
}

/** The pipeline files of a directory: `*.yaml` / `*.yml`, not hidden, in name order. */
export async function listPipelineFiles(dir: string): Promise<string[]> {
  const entries = await readdir(dir);
  return entries
    .filter((f) => /\.ya?ml$/.test(f) && !f.startsWith('.'))
    .sort()
    .map((entry) => join(dir, entry));
}

/**
 * Loads `files` with the named connections of `connectionsFile`. Of several files claiming one
 * name, one keeps it (claims.ts); each other one is invalid, named `<name>@<file name>`.
 */
export async function loadPipelines(
  files: readonly string[],
  connectionsFile: string,
  options: LoadOptions,
): Promise<PipelineDirectory> {
  const catalog = await loadConnectionsFile(connectionsFile);
  const results: PipelineFileResult[] = [];
  for (const file of files) results.push(await loadPipelineFile(file, catalog, options.checks));
  const claims: Claim[] = results.map((r) => ({
    name: r.ok ? r.pipeline.name : r.name,
    file: r.ok ? r.pipeline.file : r.file,
  }));
  const settled = settleClaims(claims, options.owners ?? new Map());
  const valid: LoadedPipeline[] = [];
  const invalid: InvalidPipelineFile[] = [];
  results.forEach((result, index) => {
    const claim = claims[index];
    const refused = claim === undefined ? undefined : settled.get(claim.file);
    const own = result.ok ? [] : result.problems.map(formatProblem);
    if (refused !== undefined) {
      const at = result.nameAt;
      invalid.push({
        name: `${refused.name}@${basename(refused.file)}`,
        file: refused.file,
        problems: [formatProblem({ ...at, message: refused.message }), ...own],
      });
    } else if (result.ok) valid.push(result.pipeline);
    else invalid.push({ name: result.name, file: result.file, problems: own });
  });
  return { valid, invalid, connections: { file: catalog.file, problems: catalog.problems } };
}

/**
 * Loads a pipelines directory and the connections.yaml beside it; a missing directory holds no
 * pipelines.
 */
export async function loadPipelineDirectory(dir: string, options: LoadOptions): Promise<PipelineDirectory> {
  let files: string[];
  try {
    files = await listPipelineFiles(dir);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    files = [];
  }
  return loadPipelines(files, connectionsFileFor(dir), options);
}
