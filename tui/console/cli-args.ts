/** etl-console's command line, parsed without touching `process` (main.tsx passes argv and env). */
import { parseArgs } from 'node:util';
import { EtlError } from '../../shared/errors.js';

export interface ConsoleArgs {
  readonly home?: string;
  readonly socket?: string;
  readonly url?: string;
  readonly tokenFile?: string;
  readonly readonly: boolean;
  readonly color: boolean;
}

export type ParsedCommandLine =
  | { readonly kind: 'run'; readonly args: ConsoleArgs }
  | { readonly kind: 'help' }
  | { readonly kind: 'version' };

export const USAGE = `Usage: etl-console [options]

Interactive console for etld: pipelines, live runs, logs and actions.

Options:
  --home DIR          use DIR as ETLD_HOME (socket at DIR/run/etld.sock)
  --socket PATH       the daemon's Unix socket (default: $ETLD_HOME/run/etld.sock,
                      else /run/etld/etld.sock)
  --url URL           connect over TCP, e.g. ws://127.0.0.1:7070 (needs --token-file)
  --token-file FILE   file holding the bearer token for --url
  --readonly          watch only: start/stop/pause/retry are hidden and disabled
  --no-color          no colours (also when NO_COLOR is set)
  --help              show this help
  --version           show the version

Views: type : then pipelines, runs, alerts or logs (tab completes).
Keys: s start, x stop, p pause/resume, r retry, l logs, y yaml, d error, enter details,
/ filter, o sort, esc back, ? help, q quit.

Reference: docs/ in the etld package; etlctl does the same from scripts (docs/etlctl.md).
`;

/** NO_COLOR (https://no-color.org): present and not empty disables colour. */
function colorAllowed(env: Readonly<Record<string, string | undefined>>): boolean {
  const value = env.NO_COLOR;
  return value === undefined || value === '';
}

export function parseCommandLine(
  argv: readonly string[],
  env: Readonly<Record<string, string | undefined>>,
): ParsedCommandLine {
  let values;
  try {
    ({ values } = parseArgs({
      args: [...argv],
      allowPositionals: false,
      strict: true,
      options: {
        home: { type: 'string' },
        socket: { type: 'string' },
        url: { type: 'string' },
        'token-file': { type: 'string' },
        readonly: { type: 'boolean', default: false },
        'no-color': { type: 'boolean', default: false },
        help: { type: 'boolean', short: 'h', default: false },
        version: { type: 'boolean', short: 'V', default: false },
      },
    }));
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    throw new EtlError('USAGE', `${message}\n\n${USAGE}`, { cause: error });
  }
  if (values.help) return { kind: 'help' };
  if (values.version) return { kind: 'version' };
  for (const [flag, value] of Object.entries({
    home: values.home,
    socket: values.socket,
    url: values.url,
    'token-file': values['token-file'],
  })) {
    if (value !== undefined && value.trim() === '')
      throw new EtlError('USAGE', `--${flag} needs a non-empty value`);
  }
  if (values['token-file'] !== undefined && values.url === undefined) {
    throw new EtlError('USAGE', '--token-file is only used with --url');
  }
  return {
    kind: 'run',
    args: {
      home: values.home,
      socket: values.socket,
      url: values.url,
      tokenFile: values['token-file'],
      readonly: values.readonly,
      color: !values['no-color'] && colorAllowed(env),
    },
  };
}
