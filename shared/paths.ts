import { dirname, isAbsolute, join, resolve } from 'node:path';
import type { DaemonSettings } from './config/daemon-schema.js';

/**
 * Where everything lives. FHS defaults for a system service; with a home directory
 * (`ETLD_HOME` / `--home`) everything sits under one directory in one fixed layout.
 */
export interface DaemonPaths {
  readonly home: string | null;
  readonly settingsFile: string;
  /** True when the settings file was named explicitly (`ETLD_CONFIG`): then it must exist. */
  readonly settingsExplicit: boolean;
  readonly pipelinesDir: string;
  readonly stateDir: string;
  readonly logDir: string;
  readonly runDir: string;
  readonly socketPath: string;
  readonly lakeDir: string;
  readonly tempRoot: string;
}

export interface PathInputs {
  readonly home?: string | undefined;
  readonly configFile?: string | undefined;
  readonly cwd: string;
  readonly tmpDir: string;
}

export function resolvePaths(inputs: PathInputs): DaemonPaths {
  const explicit = inputs.configFile !== undefined;
  if (inputs.home !== undefined) {
    const home = resolve(inputs.cwd, inputs.home);
    return {
      home,
      settingsFile: explicit ? resolve(inputs.cwd, inputs.configFile ?? '') : join(home, 'etld.yaml'),
      settingsExplicit: explicit,
      pipelinesDir: join(home, 'pipelines'),
      stateDir: join(home, 'state'),
      logDir: join(home, 'logs'),
      runDir: join(home, 'run'),
      socketPath: join(home, 'run', 'etld.sock'),
      lakeDir: join(home, 'lake'),
      tempRoot: join(home, 'tmp'),
    };
  }
  return {
    home: null,
    settingsFile: explicit ? resolve(inputs.cwd, inputs.configFile ?? '') : '/etc/etld/etld.yaml',
    settingsExplicit: explicit,
    pipelinesDir: '/etc/etld/pipelines',
    stateDir: '/var/lib/etld/state',
    logDir: '/var/log/etl',
    runDir: '/run/etld',
    socketPath: '/run/etld/etld.sock',
    lakeDir: '/var/lib/etld/lake',
    tempRoot: join(inputs.tmpDir, 'etld'),
  };
}

/** Applies the daemon settings' overrides (relative paths resolve against the settings file's directory). */
export function applySettingsPaths(
  paths: DaemonPaths,
  overrides: {
    pipelinesDir?: string | undefined;
    lakeDir?: string | undefined;
    logDir?: string | undefined;
    socketPath?: string | undefined;
    stateFile?: string | undefined;
  },
  baseDir: string,
): DaemonPaths {
  const abs = (p: string | undefined): string | undefined =>
    p === undefined ? undefined : isAbsolute(p) ? p : resolve(baseDir, p);
  const socketPath = abs(overrides.socketPath);
  return {
    ...paths,
    pipelinesDir: abs(overrides.pipelinesDir) ?? paths.pipelinesDir,
    lakeDir: abs(overrides.lakeDir) ?? paths.lakeDir,
    logDir: abs(overrides.logDir) ?? paths.logDir,
    socketPath: socketPath ?? paths.socketPath,
  };
}

/** The paths once the daemon settings are read: their overrides, relative to the settings file. */
export function pathsWithSettings(paths: DaemonPaths, settings: DaemonSettings): DaemonPaths {
  return applySettingsPaths(
    paths,
    {
      pipelinesDir: settings.pipelines_dir,
      lakeDir: settings.lake_dir,
      logDir: settings.logs.dir,
      socketPath: settings.control.socket,
    },
    dirname(paths.settingsFile),
  );
}
