import { parseArgs } from 'node:util';
import { EtlError } from '../../shared/errors.js';

export interface DaemonArgs {
  readonly help: boolean;
  readonly version: boolean;
  readonly home: string | undefined;
  readonly config: string | undefined;
  readonly logFormat: 'text' | 'json' | undefined;
  readonly logLevel: 'error' | 'warning' | 'notice' | 'info' | 'debug' | undefined;
  readonly once: string | undefined;
  readonly checkConfig: boolean;
}

export const DAEMON_HELP = `etld — the ETL daemon

Usage: etld [--home DIR] [--config FILE] [--log-format text|json] [--log-level LEVEL] [--once PIPELINE]
       etld [--home DIR] [--config FILE] --check-config

Runs the pipelines defined in the pipelines directory: fires their schedules, extracts, loads,
retries, rotates logs and sends alerts. Control it with etlctl or etl-console.

Options:
  --home DIR            everything under DIR (also ETLD_HOME): DIR/etld.yaml, DIR/pipelines/*.yaml,
                        DIR/connections.yaml, DIR/state/, DIR/logs/, DIR/run/etld.sock, DIR/lake/
  --config FILE         daemon settings file (also ETLD_CONFIG; default /etc/etld/etld.yaml)
  --log-format FORMAT   text (journald priority prefixes, default) or json (one object per line)
  --log-level LEVEL     error | warning | notice | info (default) | debug
  --once PIPELINE       run one pipeline once in the foreground (retries per its policy, no schedules,
                        no control socket) and exit 0 if it succeeded, 1 if not
  --check-config        check the daemon settings, the pipeline files and connections.yaml as a
                        start-up would (with this environment's secrets), start nothing, and exit
                        0 if every file is valid (warnings allowed), 1 if not
  -h, --help            show this help
  -V, --version         show the version

Signals: SIGHUP reloads pipeline files; SIGTERM/SIGINT drain (running runs get the grace period).
Exit codes: 0 stopped cleanly, 1 fatal error (e.g. another etld holds the state directory),
2 usage error, 78 invalid configuration or state store (systemd does not restart on it).

Example:
  ETLD_HOME=/tmp/etld-dev etld

Reference (docs/ in the etld package): settings-reference.md (etld.yaml), pipeline-reference.md
(pipeline files), architecture.md (how runs and exactly-once loads work).
`;

export function parseDaemonArgs(
  argv: readonly string[],
  env: Readonly<Record<string, string | undefined>>,
): DaemonArgs {
  let parsed;
  try {
    parsed = parseArgs({
      args: [...argv],
      options: {
        help: { type: 'boolean', short: 'h' },
        version: { type: 'boolean', short: 'V' },
        home: { type: 'string' },
        config: { type: 'string' },
        'log-format': { type: 'string' },
        'log-level': { type: 'string' },
        once: { type: 'string' },
        'check-config': { type: 'boolean' },
      },
      allowPositionals: false,
      strict: true,
    });
  } catch (error) {
    throw new EtlError('USAGE', `${(error as Error).message} (etld --help shows the options)`);
  }
  const values = parsed.values;
  const logFormat = values['log-format'];
  if (logFormat !== undefined && logFormat !== 'text' && logFormat !== 'json') {
    throw new EtlError('USAGE', `--log-format: expected text or json, got "${logFormat}"`);
  }
  const logLevel = values['log-level'];
  const levels = ['error', 'warning', 'notice', 'info', 'debug'] as const;
  if (logLevel !== undefined && !(levels as readonly string[]).includes(logLevel)) {
    throw new EtlError('USAGE', `--log-level: expected one of ${levels.join(', ')}, got "${logLevel}"`);
  }
  return {
    help: values.help ?? false,
    version: values.version ?? false,
    home: values.home ?? (env.ETLD_HOME !== undefined && env.ETLD_HOME !== '' ? env.ETLD_HOME : undefined),
    config:
      values.config ??
      (env.ETLD_CONFIG !== undefined && env.ETLD_CONFIG !== '' ? env.ETLD_CONFIG : undefined),
    logFormat: logFormat,
    logLevel: logLevel as DaemonArgs['logLevel'],
    once: values.once,
    checkConfig: values['check-config'] ?? false,
  };
}
