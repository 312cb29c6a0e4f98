import { stat, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { loadPipelineFile } from '../../daemon/config/pipeline-loader.js';
import { formatProblem } from '../../shared/config/yaml-document.js';
import { EtlError } from '../../shared/errors.js';
import type { CommandContext } from './context.js';
import { generatePipeline, parseDestKind, parseSourceKind } from './generate.js';
import { EXIT } from './io.js';

export interface LocalValidation {
  readonly valid: string[];
  readonly problems: string[];
}

/** Pipeline files named on the command line; directories stand for their *.yaml / *.yml files. */
async function expandFiles(paths: readonly string[]): Promise<string[]> {
  const files: string[] = [];
  for (const path of paths) {
    let isDir = false;
    try {
      isDir = (await stat(path)).isDirectory();
    } catch {
      // Missing files are reported by the loader with the file named.
    }
    if (!isDir) {
      files.push(path);
      continue;
    }
    const entries = (await readdir(path)).filter((f) => /\.ya?ml$/.test(f) && !f.startsWith('.')).sort();
    files.push(...entries.map((e) => join(path, e)));
  }
  return files;
}

/** Validates pipeline files without a daemon, with the daemon's own loader (and duplicate-name check). */
export async function validateFiles(paths: readonly string[]): Promise<LocalValidation> {
  const valid: string[] = [];
  const problems: string[] = [];
  const seen = new Map<string, string>();
  for (const file of await expandFiles(paths)) {
    const result = await loadPipelineFile(file);
    if (!result.ok) {
      problems.push(...result.problems.map(formatProblem));
      continue;
    }
    const other = seen.get(result.pipeline.name);
    if (other !== undefined) {
      problems.push(`${file}:1:1 name: pipeline "${result.pipeline.name}" is already defined in ${other}`);
      continue;
    }
    seen.set(result.pipeline.name, file);
    valid.push(`${result.pipeline.name} (${file})`);
  }
  return { valid, problems };
}

export function printValidation(
  ctx: CommandContext,
  result: LocalValidation | { valid: string[]; problems: string[] },
  where: string,
): number {
  if (ctx.flags.json) {
    ctx.printJson(result);
  } else {
    for (const name of result.valid) ctx.print(`${ctx.style.green('ok')}       ${name}`);
    for (const problem of result.problems) ctx.print(`${ctx.style.red('invalid')}  ${problem}`);
    if (result.valid.length === 0 && result.problems.length === 0)
      ctx.print(`no pipeline files found in ${where}`);
  }
  return result.problems.length === 0 ? EXIT.ok : EXIT.failed;
}

export async function generateCommand(ctx: CommandContext): Promise<number> {
  const name = ctx.positionals[0] ?? '';
  const text = generatePipeline(
    name,
    parseSourceKind(typeof ctx.values.source === 'string' ? ctx.values.source : undefined),
    parseDestKind(typeof ctx.values.dest === 'string' ? ctx.values.dest : undefined),
  );
  const output = ctx.values.output;
  if (typeof output !== 'string') {
    ctx.io.stdout(text);
    return EXIT.ok;
  }
  try {
    await writeFile(output, text, { flag: ctx.values.force === true ? 'w' : 'wx' });
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'EEXIST')
      throw new EtlError('USAGE', `${output} already exists (add --force to overwrite it)`);
    throw new EtlError('CONFIG_INVALID', `cannot write ${output} (${code ?? 'error'})`, { cause: error });
  }
  ctx.io.stderr(`wrote ${output}; next: fill in the connection values, then etlctl validate ${output}\n`);
  return EXIT.ok;
}
