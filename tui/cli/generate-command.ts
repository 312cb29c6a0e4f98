import { writeFile } from 'node:fs/promises';
import { EtlError } from '../../shared/errors.js';
import type { CommandContext } from './context.js';
import { generatePipeline, parseDestKind, parseSourceKind, parseTablesOption } from './generate.js';
import { EXIT } from './io.js';

export async function generateCommand(ctx: CommandContext): Promise<number> {
  const name = ctx.positionals[0] ?? '';
  const source = parseSourceKind(typeof ctx.values.source === 'string' ? ctx.values.source : undefined);
  const text = generatePipeline(
    name,
    source,
    parseDestKind(typeof ctx.values.dest === 'string' ? ctx.values.dest : undefined),
    parseTablesOption(ctx.values.tables, source),
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
