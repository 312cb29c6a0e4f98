import { parseArgs } from 'node:util';
import { resolveEndpoint } from '../../shared/client/endpoint.js';
import { loadPipelineDirectory } from '../../shared/config/pipeline-files.js';
import { EtlError } from '../../shared/errors.js';
import { bashCompletion } from './completion-bash.js';
import { completionModel } from './completion-model.js';
import { zshCompletion } from './completion-zsh.js';
import { connectEndpoint, type CommandContext } from './context.js';
import { EXIT, type CliIo } from './io.js';
import { localDaemonPaths } from './local-paths.js';
import { GLOBAL_OPTIONS } from './verbs.js';

/** `etlctl completion bash|zsh`: the script, generated from the verb table. */
export function completionCommand(ctx: CommandContext): Promise<number> {
  const shell = ctx.positionals[0];
  const model = completionModel();
  if (shell === 'bash') ctx.io.stdout(bashCompletion(model));
  else if (shell === 'zsh') ctx.io.stdout(zshCompletion(model));
  else throw new EtlError('USAGE', `completion: expected bash or zsh, got "${shell ?? ''}"`);
  return Promise.resolve(EXIT.ok);
}

/** How long a completion waits for the daemon's pipeline list before using the files. */
const LIST_TIMEOUT_MS = 2_000;

/**
 * `etlctl __complete pipelines [global options]`, the hidden helper the completion scripts call:
 * the pipeline names, one per line, from the daemon when it answers, else from the pipeline files
 * of the daemon's home on this host. Prints nothing and exits 0 on any problem: a completion
 * must never print errors into the command line being typed.
 */
export async function completeWords(argv: readonly string[], io: CliIo): Promise<number> {
  try {
    const { values, positionals } = parseArgs({
      args: [...argv],
      options: GLOBAL_OPTIONS,
      strict: false,
      allowPositionals: true,
    });
    if (positionals[0] !== 'pipelines') return EXIT.ok;
    const text = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);
    const endpoint = resolveEndpoint({
      home: text(values.home),
      socket: text(values.socket),
      url: text(values.url),
      tokenFile: text(values['token-file']),
      envHome: io.env.ETLD_HOME,
    });
    for (const name of await pipelineNames(endpoint, io)) io.stdout(`${name}\n`);
  } catch {
    // Nothing to offer.
  }
  return EXIT.ok;
}

async function pipelineNames(endpoint: ReturnType<typeof resolveEndpoint>, io: CliIo): Promise<string[]> {
  try {
    const client = await connectEndpoint(endpoint);
    try {
      return (await client.call('list', {}, { timeoutMs: LIST_TIMEOUT_MS })).map((p) => p.name);
    } finally {
      await client.close();
    }
  } catch {
    const paths = await localDaemonPaths(endpoint, io);
    if (paths === null) return [];
    const loaded = await loadPipelineDirectory(paths.pipelinesDir, {
      checks: { now: io.now(), defaultTimezone: Intl.DateTimeFormat().resolvedOptions().timeZone },
    });
    return [...loaded.valid, ...loaded.invalid].map((p) => p.name).sort();
  }
}
