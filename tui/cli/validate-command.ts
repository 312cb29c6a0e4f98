/**
 * `etlctl validate`: pipeline files (with the connections.yaml beside their directory), the
 * daemon settings file (`--settings`), or, without arguments, the daemon's own files (through the
 * daemon, which also checks its secrets; or locally when it is down). Local checks use the shared
 * loader the daemon uses, so both call the same files valid.
 */
import { stat } from 'node:fs/promises';
import { basename, dirname } from 'node:path';
import {
  CONNECTIONS_FILE_NAME,
  connectionsFileFor,
  loadConnectionsFile,
} from '../../shared/config/connections-file.js';
import { daemonSettingsSchema } from '../../shared/config/daemon-schema.js';
import { listPipelineFiles, loadPipelines } from '../../shared/config/pipeline-files.js';
import { formatProblem, parseYamlWithSchema } from '../../shared/config/yaml-document.js';
import { located } from './validation-json.js';
import { readFile } from 'node:fs/promises';
import type { DaemonClient } from '../../shared/client/client.js';
import { EtlError } from '../../shared/errors.js';
import type { CommandContext } from './context.js';
import { EXIT } from './io.js';
import { localDaemonPaths } from './local-paths.js';

export interface Validation {
  readonly valid: string[];
  readonly problems: string[];
  readonly warnings?: string[];
}

const SETTINGS_FILE_NAME = 'etld.yaml';

/** Checks a daemon settings file (etld.yaml) as the daemon would read it at start-up. */
async function validateSettings(file: string): Promise<Validation> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? 'unreadable';
    return { valid: [], problems: [`${file}:1:1 cannot read file (${code})`] };
  }
  const parsed = parseYamlWithSchema(file, text, daemonSettingsSchema);
  return parsed.ok
    ? { valid: [`daemon settings (${file})`], problems: [] }
    : { valid: [], problems: parsed.problems.map(formatProblem) };
}

async function validateConnections(file: string): Promise<Validation> {
  const catalog = await loadConnectionsFile(file);
  if (!catalog.exists) return { valid: [], problems: [`${file}:1:1 cannot read file (ENOENT)`] };
  return {
    valid: [...catalog.connections.keys()].map((name) => `connection ${name} (${file})`),
    problems: [...catalog.problems],
  };
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

function merge(results: readonly Validation[]): Validation {
  return {
    valid: results.flatMap((r) => r.valid),
    problems: results.flatMap((r) => r.problems),
    warnings: results.flatMap((r) => r.warnings ?? []),
  };
}

/**
 * Validates files without a daemon. `etld.yaml` and `connections.yaml` are checked as what they
 * are; pipeline files are grouped by their directory, each group with the connections.yaml beside
 * it and the daemon's rule for names several files claim (with no record of an earlier owner).
 * Secrets are not checked: this shell's environment is not the daemon's.
 */
export async function validateFiles(
  paths: readonly string[],
  settingsFile: string | undefined,
  now: Date,
): Promise<Validation> {
  const results: Validation[] = [];
  if (settingsFile !== undefined) results.push(await validateSettings(settingsFile));
  const groups = new Map<string, string[]>();
  for (const file of await expandFiles(paths)) {
    if (basename(file) === SETTINGS_FILE_NAME) results.push(await validateSettings(file));
    else if (basename(file) === CONNECTIONS_FILE_NAME) results.push(await validateConnections(file));
    else {
      const connections = connectionsFileFor(dirname(file));
      groups.set(connections, [...(groups.get(connections) ?? []), file]);
    }
  }
  const defaultTimezone = Intl.DateTimeFormat().resolvedOptions().timeZone;
  for (const [connections, files] of groups) {
    const loaded = await loadPipelines(files, connections, { checks: { now, defaultTimezone } });
    results.push({
      valid: loaded.valid.map((p) => `${p.name} (${p.file})`),
      problems: [...loaded.connections.problems, ...loaded.invalid.flatMap((p) => p.problems)],
      warnings: loaded.valid.flatMap((p) => p.warnings ?? []),
    });
  }
  return merge(results);
}

export function printValidation(ctx: CommandContext, result: Validation, where: string): number {
  const warnings = result.warnings ?? [];
  if (ctx.flags.json) {
    ctx.printJson({
      valid: result.valid,
      problems: result.problems,
      warnings,
      problem_details: result.problems.map(located),
      warning_details: warnings.map(located),
    });
  } else {
    for (const name of result.valid) ctx.print(`${ctx.style.green('ok')}       ${name}`);
    for (const problem of result.problems) ctx.print(`${ctx.style.red('invalid')}  ${problem}`);
    for (const warning of warnings) ctx.print(`${ctx.style.yellow('warning')}  ${warning}`);
    if (result.valid.length === 0 && result.problems.length === 0)
      ctx.print(`no pipeline files found in ${where}`);
  }
  return result.problems.length === 0 ? EXIT.ok : EXIT.failed;
}

export async function validateCommand(ctx: CommandContext): Promise<number> {
  const sources = ctx.values.sources === true;
  const settings = typeof ctx.values.settings === 'string' ? ctx.values.settings : undefined;
  if (sources && (ctx.positionals.length > 0 || settings !== undefined)) {
    throw new EtlError(
      'USAGE',
      "--sources checks the daemon's own pipeline files against their sources; drop the file names and --settings",
    );
  }
  if (ctx.positionals.length > 0 || settings !== undefined) {
    const where = [settings, ...ctx.positionals].filter((p) => p !== undefined).join(' ');
    return printValidation(ctx, await validateFiles(ctx.positionals, settings, ctx.io.now()), where);
  }
  let client: DaemonClient;
  try {
    client = await ctx.connect();
  } catch (error) {
    if (!(error instanceof EtlError) || error.code !== 'DAEMON_UNREACHABLE') throw error;
    // The sources are reached with the daemon's credentials: without it, say so rather than skip.
    if (sources) throw error;
    const dir = (await localDaemonPaths(ctx.endpoint, ctx.io))?.pipelinesDir;
    if (dir === undefined) throw error;
    ctx.io.stderr(`etlctl: etld is not reachable; validating the files in ${dir} without it\n`);
    return printValidation(ctx, await validateFiles([dir], undefined, ctx.io.now()), dir);
  }
  try {
    return printValidation(
      ctx,
      await client.call('validate', { sources }),
      sources ? "the daemon's pipelines directory and their sources" : "the daemon's pipelines directory",
    );
  } finally {
    await client.close();
  }
}
