/**
 * Warnings about a valid pipeline file: things that do not stop it from loading but that an
 * operator wants to hear about at load rather than at the first run. A one-shot `at` schedule in
 * the past (it never fires), a leftover cursor in `mode: full` (ignored), and a secret the daemon
 * cannot read (`password_env` unset, `password_file` unreadable: every run would fail). Messages
 * name the field and the variable or file, never a secret's value.
 */
import type { ConnectionConfig } from './common-schema.js';
import type { PipelineConfig } from './pipeline-schema.js';
import { parseSchedule } from './schedule.js';
import type { ConfigProblem } from './yaml-document.js';

/** What the daemon can see of its secrets, without reading them into any message. */
export interface SecretProbe {
  /** Whether the variable is set in the daemon's environment. */
  envIsSet(name: string): boolean;
  /** The path a `password_file` resolves to, and why it cannot be read (null when it can). */
  fileProblem(path: string): { readonly resolved: string; readonly problem: string | null };
}

export interface LoadChecks {
  readonly now: Date;
  /** The timezone of pipelines without one (the daemon's `defaults.timezone` or the host's). */
  readonly defaultTimezone: string;
  /** The daemon's secrets; without it (etlctl validate, not the daemon's environment) they are not checked. */
  readonly secrets?: SecretProbe;
}

type Path = readonly (string | number)[];
/** Where a field of the loaded config is written (in the pipeline file, or in connections.yaml). */
export type Locate = (path: Path) => Pick<ConfigProblem, 'file' | 'line' | 'column' | 'path'>;

/** `YYYY-MM-DDTHH:MM:SS` of `now` on the wall clocks of `zone`. */
function localNow(now: Date, zone: string): string {
  const parts = new Intl.DateTimeFormat('en-CA', {
    timeZone: zone,
    hourCycle: 'h23',
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
    hour: '2-digit',
    minute: '2-digit',
    second: '2-digit',
  }).formatToParts(now);
  const part = (type: Intl.DateTimeFormatPartTypes): string =>
    parts.find((p) => p.type === type)?.value ?? '00';
  return `${part('year')}-${part('month')}-${part('day')}T${part('hour')}:${part('minute')}:${part('second')}`;
}

function pastAt(config: PipelineConfig, checks: LoadChecks, locate: Locate): ConfigProblem[] {
  const parsed = parseSchedule(config.schedule);
  if (!parsed.ok || parsed.schedule.kind !== 'at') return [];
  const zone = config.timezone ?? checks.defaultTimezone;
  const now = localNow(checks.now, zone);
  // Wall-clock texts of one zone compare like the instants they name (to the hour a DST fold repeats).
  if (parsed.schedule.localDateTime > now) return [];
  return [
    {
      ...locate(['schedule']),
      message: `"${parsed.schedule.text}" is in the past (it is ${now.replace('T', ' ')} in ${zone}): it does not fire; etlctl start ${config.name} runs it by hand`,
    },
  ];
}

/** The load fields a full load does not use; `loadPipelineFile` drops them (see `withoutFullModeLeftovers`). */
export const FULL_MODE_IGNORED = ['cursor', 'start_from', 'lag'] as const;

function fullModeLeftovers(config: PipelineConfig, locate: Locate): ConfigProblem[] {
  if (config.load.mode !== 'full') return [];
  return FULL_MODE_IGNORED.filter((field) => config.load[field] !== undefined).map((field) => ({
    ...locate(['load', field]),
    message: `ignored in mode full: a full load reads the whole source every run (left over from another mode? remove it, or use mode incremental or merge)`,
  }));
}

/** A connection as a run opens it, with the path each secret field is written at. */
interface SecretSite {
  readonly connection: ConnectionConfig;
  readonly path: Path;
}

/** The connections runs open: the source's (each shard's fields over it) and a PostgreSQL destination's. */
function secretSites(config: PipelineConfig): SecretSite[] {
  const sites: SecretSite[] = [];
  const { source } = config;
  const ownSecret = (c: ConnectionConfig): boolean =>
    c.password_env !== undefined || c.password_file !== undefined;
  const shards = source.shards ?? [];
  // The shared connection's secret matters when some shard (or the unsharded source) uses it.
  if (source.connection !== undefined && (shards.length === 0 || shards.some((s) => !ownSecret(s))))
    sites.push({ connection: source.connection, path: ['source', 'connection'] });
  shards.forEach((shard, index) => {
    if (ownSecret(shard)) sites.push({ connection: shard, path: ['source', 'shards', index] });
  });
  if (config.destination.type === 'postgres')
    sites.push({ connection: config.destination.connection, path: ['destination', 'connection'] });
  return sites;
}

function unreadableSecrets(config: PipelineConfig, probe: SecretProbe, locate: Locate): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  for (const { connection, path } of secretSites(config)) {
    if (connection.password_env !== undefined && !probe.envIsSet(connection.password_env)) {
      problems.push({
        ...locate([...path, 'password_env']),
        message: `environment variable ${connection.password_env} is not set in the daemon's environment: runs fail until it is`,
      });
    } else if (connection.password_env === undefined && connection.password_file !== undefined) {
      const file = probe.fileProblem(connection.password_file);
      if (file.problem !== null)
        problems.push({
          ...locate([...path, 'password_file']),
          message: `cannot read ${file.resolved} (${file.problem}): runs fail until the daemon can`,
        });
    }
  }
  return problems;
}

/** Every warning about a valid pipeline, in file order of the fields. */
export function pipelineWarnings(
  config: PipelineConfig,
  checks: LoadChecks,
  locate: Locate,
): ConfigProblem[] {
  return [
    ...pastAt(config, checks, locate),
    ...fullModeLeftovers(config, locate),
    ...(checks.secrets === undefined ? [] : unreadableSecrets(config, checks.secrets, locate)),
  ];
}

/** A full load's config without the fields it ignores, so no run ever looks at them. */
export function withoutFullModeLeftovers(config: PipelineConfig): PipelineConfig {
  if (config.load.mode !== 'full') return config;
  const { cursor: _cursor, start_from: _startFrom, lag: _lag, ...load } = config.load;
  return { ...config, load };
}
