import type { DaemonClient } from '../../shared/client/client.js';
import { readTokenFile, resolveEndpoint, type Endpoint } from '../../shared/client/endpoint.js';
import { connectClient } from '../../shared/client/ws-client.js';
import { EtlError, isEtlError } from '../../shared/errors.js';
import type { GlobalFlags, OptionValues } from './args.js';
import { createStyle, type Style } from './format.js';
import type { CliIo } from './io.js';

export const CLI_VERSION = '0.1.0';

export interface CommandContext {
  readonly io: CliIo;
  readonly flags: GlobalFlags;
  readonly positionals: readonly string[];
  readonly values: OptionValues;
  readonly style: Style;
  readonly endpoint: Endpoint;
  /** Prints text (a trailing newline is added when missing). */
  print(text: string): void;
  printJson(value: unknown): void;
  connect(): Promise<DaemonClient>;
}

export function createContext(
  io: CliIo,
  flags: GlobalFlags,
  positionals: readonly string[],
  values: OptionValues,
): CommandContext {
  const noColorEnv = io.env.NO_COLOR !== undefined && io.env.NO_COLOR !== '';
  const style = createStyle(io.stdoutIsTty && !flags.noColor && !noColorEnv);
  const endpoint = resolveEndpoint({ ...flags, envHome: io.env.ETLD_HOME });
  return {
    io,
    flags,
    positionals,
    values,
    style,
    endpoint,
    print: (text) => io.stdout(text.endsWith('\n') ? text : `${text}\n`),
    printJson: (value) => io.stdout(`${JSON.stringify(value, null, 2)}\n`),
    connect: async () => {
      const client = await connect(endpoint);
      // Said before any output, on stderr so that scripts reading stdout are not disturbed.
      if (client.role === 'read-only' && !flags.json)
        io.stderr('etlctl: [read-only] this connection can look but not change anything\n');
      return client;
    },
  };
}

async function connect(endpoint: Endpoint): Promise<DaemonClient> {
  const clientName = `etlctl/${CLI_VERSION}`;
  try {
    if (endpoint.kind === 'unix')
      return await connectClient({ socketPath: endpoint.socketPath, clientName, reconnect: false });
    const token = await readTokenFile(endpoint.tokenFile);
    return await connectClient({ url: endpoint.url, token, clientName, reconnect: false });
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
