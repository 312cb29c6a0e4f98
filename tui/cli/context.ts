import type { DaemonClient } from '../../shared/client/client.js';
import { readTokenFile, resolveEndpoint, type Endpoint } from '../../shared/client/endpoint.js';
import { loginName } from '../../shared/client/login.js';
import { connectClient } from '../../shared/client/ws-client.js';
import { EtlError, isEtlError } from '../../shared/errors.js';
import type { GlobalFlags, OptionValues } from './args.js';
import { createStyle, type Style } from './format.js';
import type { CliIo } from './io.js';
import { jsonDocument } from './json-output.js';
import type { VerbSpec } from './verbs.js';

export const CLI_VERSION = '0.1.0';

export interface CommandContext {
  readonly io: CliIo;
  readonly verb: VerbSpec;
  readonly flags: GlobalFlags;
  readonly positionals: readonly string[];
  readonly values: OptionValues;
  readonly style: Style;
  readonly endpoint: Endpoint;
  /** Prints text (a trailing newline is added when missing). */
  print(text: string): void;
  /** Prints one `--json` document: `{"schema": 1, ...}`, a list under the verb's `json.listKey`. */
  printJson(value: object): void;
  /** Prints one document on one line (NDJSON: `logs --json`). */
  printJsonLine(value: object): void;
  connect(): Promise<DaemonClient>;
}

export function createContext(
  io: CliIo,
  verb: VerbSpec,
  flags: GlobalFlags,
  positionals: readonly string[],
  values: OptionValues,
): CommandContext {
  const noColorEnv = io.env.NO_COLOR !== undefined && io.env.NO_COLOR !== '';
  const style = createStyle(io.stdoutIsTty && !flags.noColor && !noColorEnv);
  const endpoint = resolveEndpoint({ ...flags, envHome: io.env.ETLD_HOME });
  return {
    io,
    verb,
    flags,
    positionals,
    values,
    style,
    endpoint,
    print: (text) => io.stdout(text.endsWith('\n') ? text : `${text}\n`),
    printJson: (value) => io.stdout(`${JSON.stringify(jsonDocument(value, verb.json?.listKey), null, 2)}\n`),
    printJsonLine: (value) => io.stdout(`${JSON.stringify(jsonDocument(value, undefined))}\n`),
    connect: async () => {
      const client = await connectEndpoint(endpoint, loginName(io.env));
      // Said before any output, on stderr so that scripts reading stdout are not disturbed.
      if (client.role === 'read-only' && !flags.json)
        io.stderr('etlctl: [read-only] this connection can look but not change anything\n');
      return client;
    },
  };
}

/**
 * A client of the daemon at `endpoint`, introducing itself as `user` (recorded with the changes it
 * asks for); DAEMON_UNREACHABLE says how to start that daemon.
 */
export async function connectEndpoint(endpoint: Endpoint, user?: string): Promise<DaemonClient> {
  const clientName = `etlctl/${CLI_VERSION}`;
  const who = user === undefined ? {} : { user };
  try {
    if (endpoint.kind === 'unix')
      return await connectClient({ socketPath: endpoint.socketPath, clientName, reconnect: false, ...who });
    const token = await readTokenFile(endpoint.tokenFile);
    return await connectClient({ url: endpoint.url, token, clientName, reconnect: false, ...who });
  } catch (error) {
    if (isEtlError(error) && error.code === 'DAEMON_UNREACHABLE') {
      throw new EtlError('DAEMON_UNREACHABLE', `${error.message}; ${startHint(endpoint)}`, { cause: error });
    }
    throw error;
  }
}

/** How to start the daemon the operator was trying to reach. */
function startHint(endpoint: Endpoint): string {
  if (endpoint.kind === 'tcp') return 'is etld running there with control.tcp enabled?';
  if (endpoint.home !== null) return `start it with: etld --home ${endpoint.home}`;
  return 'start it with: systemctl start etld (or etld --home DIR for a development daemon)';
}
