import { stat, writeFile } from 'node:fs/promises';
import { listPipelineFiles, loadPipelineFiles } from '../../shared/config/pipeline-files.js';
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
    files.push(...(isDir ? await listPipelineFiles(path) : [path]));
  }
  return files;
}

/** Validates pipeline files without a daemon, with the daemon's own loader (and duplicate-name rule). */
export async function validateFiles(paths: readonly string[]): Promise<LocalValidation> {
  const loaded = await loadPipelineFiles(await expandFiles(paths));
  return {
    valid: loaded.valid.map((p) => `${p.name} (${p.file})`),
    problems: loaded.invalid.flatMap((p) => p.problems),
  };
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
