/**
 * Pipeline files, read and validated the one way the daemon (its pipelines directory) and etlctl
 * (`validate` without a daemon) both use, so they never disagree on what is valid: the file scan,
 * the schema, and the rule that a second file claiming an existing pipeline name is invalid while
 * the first keeps it.
 */
import { readdir, readFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { pipelineSchema, type PipelineConfig } from './pipeline-schema.js';
import { formatProblem, parseYamlWithSchema, type ConfigProblem } from './yaml-document.js';

/** A valid pipeline file. */
export interface LoadedPipeline {
  readonly name: string;
  readonly file: string;
  readonly config: PipelineConfig;
}

export type PipelineFileResult =
  | { readonly ok: true; readonly pipeline: LoadedPipeline }
  | {
      readonly ok: false;
      readonly file: string;
      readonly name: string;
      readonly problems: readonly ConfigProblem[];
    };

/** The pipeline name a broken file stands for: its `name:` if readable, else the file name. */
function fallbackName(file: string, text: string): string {
  const match = /^name:\s*["']?([a-z0-9_-]+)["']?\s*$/m.exec(text);
  return match?.[1] ?? basename(file).replace(/\.ya?ml$/, '');
}

/** Reads and validates one pipeline file; every problem of the file is reported at once. */
export async function loadPipelineFile(file: string): Promise<PipelineFileResult> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? 'unreadable';
    return {
      ok: false,
      file,
      name: basename(file).replace(/\.ya?ml$/, ''),
      problems: [{ file, line: 1, column: 1, path: '', message: `cannot read file (${code})` }],
    };
  }
  const parsed = parseYamlWithSchema(file, text, pipelineSchema);
  if (!parsed.ok) return { ok: false, file, name: fallbackName(file, text), problems: parsed.problems };
  return { ok: true, pipeline: { name: parsed.value.name, file, config: parsed.value } };
}

export interface PipelineDirectory {
  readonly valid: readonly LoadedPipeline[];
  readonly invalid: readonly {
    readonly name: string;
    readonly file: string;
    readonly problems: readonly string[];
  }[];
}

/** The pipeline files of a directory: `*.yaml` / `*.yml`, not hidden, sorted (so duplicates resolve the same way every time). */
export async function listPipelineFiles(dir: string): Promise<string[]> {
  const entries = await readdir(dir);
  return entries
    .filter((f) => /\.ya?ml$/.test(f) && !f.startsWith('.'))
    .sort()
    .map((entry) => join(dir, entry));
}

/**
 * Loads `files` in order. A file claiming a name an earlier file holds is invalid (named
 * `<name>@<file name>`); the first keeps the name.
 */
export async function loadPipelineFiles(files: readonly string[]): Promise<PipelineDirectory> {
  const valid: LoadedPipeline[] = [];
  const invalid: { name: string; file: string; problems: string[] }[] = [];
  const seen = new Map<string, string>();
  for (const file of files) {
    const result = await loadPipelineFile(file);
    if (!result.ok) {
      invalid.push({ name: result.name, file, problems: result.problems.map(formatProblem) });
      continue;
    }
    const previous = seen.get(result.pipeline.name);
    if (previous !== undefined) {
      invalid.push({
        name: `${result.pipeline.name}@${basename(file)}`,
        file,
        problems: [`${file}:1:1 name: pipeline "${result.pipeline.name}" is already defined in ${previous}`],
      });
      continue;
    }
    seen.set(result.pipeline.name, file);
    valid.push(result.pipeline);
  }
  return { valid, invalid };
}

/** Loads a pipelines directory (`listPipelineFiles`, then `loadPipelineFiles`); a missing one is empty. */
export async function loadPipelineDirectory(dir: string): Promise<PipelineDirectory> {
  let files: string[];
  try {
    files = await listPipelineFiles(dir);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { valid: [], invalid: [] };
    throw error;
  }
  return loadPipelineFiles(files);
}
