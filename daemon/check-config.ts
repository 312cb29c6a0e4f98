/**
 * `etld --check-config`: reads the daemon settings, the pipeline files and connections.yaml
 * exactly as a start-up would — the same loader, the daemon's environment for the secret
 * warnings, the state store's record of which file defines each pipeline (read-only, so it runs
 * beside a live daemon) — and reports, without starting anything. `ok` is false when any file is
 * invalid; warnings do not make it false.
 */
import { join } from 'node:path';
import { loadPipelineDirectory } from '../shared/config/pipeline-files.js';
import { secretProbe, type SecretEnvironment } from './config/secrets.js';
import { settingsSecretProblems } from './settings-secrets.js';
import { readDaemonSettings } from '../shared/config/settings-loader.js';
import { pathsWithSettings, type DaemonPaths } from '../shared/paths.js';
import { readRecordedPipelineFiles } from './state/recorded-files.js';

export interface ConfigCheckInput {
  /** The paths before the settings are read (`resolvePaths`). */
  readonly paths: DaemonPaths;
  readonly secrets: SecretEnvironment;
  readonly hostTimezone: string;
  readonly now: Date;
}

export interface ConfigCheck {
  readonly ok: boolean;
  /** `ok`, `invalid` and `warning` lines, then a summary. */
  readonly lines: readonly string[];
}

export async function checkConfig(input: ConfigCheckInput): Promise<ConfigCheck> {
  const { settingsFile, settingsExplicit } = input.paths;
  const read = await readDaemonSettings(settingsFile, settingsExplicit);
  if (!read.ok) {
    return {
      ok: false,
      lines: [
        ...read.problems.map((p) => `invalid  ${p}`),
        'the daemon settings are invalid: etld would not start (exit 78); pipeline files not checked',
      ],
    };
  }
  const { settings } = read;
  const paths = pathsWithSettings(input.paths, settings);
  const store = settings.state.type === 'sqlite' ? settings.state.path : undefined;
  const owners = readRecordedPipelineFiles(store ?? join(paths.stateDir, 'etld.db'));
  const directory = await loadPipelineDirectory(paths.pipelinesDir, {
    owners,
    checks: {
      now: input.now,
      defaultTimezone: settings.defaults.timezone ?? input.hostTimezone,
      secrets: secretProbe(input.secrets),
    },
  });
  // A secret the settings name but the daemon could not read stops it at start-up.
  const secretProblems = settingsSecretProblems(settings, input.secrets, paths);
  const lines = [
    secretProblems.length > 0
      ? `invalid  daemon settings (${settingsFile}): etld would not start`
      : read.found
        ? `ok       daemon settings (${settingsFile})`
        : `ok       no daemon settings at ${settingsFile}: defaults apply`,
    ...secretProblems.map((p) => `invalid  ${settingsFile}: ${p}`),
    ...directory.valid.map((p) => `ok       ${p.name} (${p.file})`),
    ...directory.connections.problems.map((p) => `invalid  ${p}`),
    ...directory.invalid.flatMap((p) => p.problems.map((problem) => `invalid  ${problem}`)),
    ...directory.valid.flatMap((p) => (p.warnings ?? []).map((w) => `warning  ${w}`)),
  ];
  const warnings = directory.valid.reduce((n, p) => n + (p.warnings ?? []).length, 0);
  const connectionsBroken = directory.connections.problems.length > 0;
  lines.push(
    `${directory.valid.length} pipeline(s) valid, ${directory.invalid.length} invalid${connectionsBroken ? `, ${directory.connections.file} invalid` : ''}, ${warnings} warning(s) (pipelines ${paths.pipelinesDir})`,
  );
  return {
    ok: directory.invalid.length === 0 && !connectionsBroken && secretProblems.length === 0,
    lines,
  };
}
