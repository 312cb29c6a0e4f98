import { tmpdir } from 'node:os';
import { resolve } from 'node:path';
import type { Endpoint } from '../../shared/client/endpoint.js';
import { loadDaemonSettings } from '../../shared/config/settings-loader.js';
import { pathsWithSettings, resolvePaths, type DaemonPaths } from '../../shared/paths.js';
import type { CliIo } from './io.js';

/**
 * The directories of the daemon etlctl is aimed at, resolved as etld resolves them (`--home` /
 * `ETLD_HOME`, `ETLD_CONFIG`, the overrides in its etld.yaml), for the verbs that work on its files
 * when it is down (`logs`, `validate`). Null when they cannot be known from here: the daemon is
 * reached over TCP (maybe on another host), or `--socket` names a socket other than the one those
 * settings give. Throws CONFIG_INVALID / CONFIG_NOT_FOUND, naming the file, for unreadable settings.
 */
export async function localDaemonPaths(endpoint: Endpoint, io: CliIo): Promise<DaemonPaths | null> {
  if (endpoint.kind === 'tcp') return null;
  const configFile = io.env.ETLD_CONFIG;
  const paths0 = resolvePaths({
    home: endpoint.home ?? undefined,
    configFile: configFile === undefined || configFile === '' ? undefined : configFile,
    cwd: io.cwd,
    tmpDir: tmpdir(),
  });
  const settings = await loadDaemonSettings(paths0.settingsFile, paths0.settingsExplicit);
  const paths = pathsWithSettings(paths0, settings);
  return resolve(io.cwd, endpoint.socketPath) === paths.socketPath ? paths : null;
}
