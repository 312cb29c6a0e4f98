import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { EtlError } from '../errors.js';

const DEFAULT_SOCKET_PATH = '/run/etld/etld.sock';

export interface EndpointFlags {
  readonly socket?: string;
  readonly home?: string;
  readonly url?: string;
  readonly tokenFile?: string;
  /** `$ETLD_HOME` of the caller's environment. */
  readonly envHome?: string;
}

export type Endpoint =
  | { readonly kind: 'unix'; readonly socketPath: string; readonly home: string | null }
  | { readonly kind: 'tcp'; readonly url: string; readonly tokenFile: string };

/**
 * Finds the daemon this way: `--url`, else `--socket`, else `--home`/`$ETLD_HOME`
 * (`DIR/run/etld.sock`), else `/run/etld/etld.sock`.
 */
export function resolveEndpoint(flags: EndpointFlags): Endpoint {
  if (flags.url !== undefined) {
    if (flags.socket !== undefined) throw new EtlError('USAGE', 'give either --url or --socket, not both');
    if (flags.tokenFile === undefined) {
      throw new EtlError(
        'USAGE',
        `--url ${flags.url} needs --token-file: the TCP listener accepts only clients with its token`,
      );
    }
    return { kind: 'tcp', url: flags.url, tokenFile: flags.tokenFile };
  }
  const home = flags.home ?? (flags.envHome !== undefined && flags.envHome !== '' ? flags.envHome : null);
  if (flags.socket !== undefined) return { kind: 'unix', socketPath: flags.socket, home };
  if (home !== null) return { kind: 'unix', socketPath: join(home, 'run', 'etld.sock'), home };
  return { kind: 'unix', socketPath: DEFAULT_SOCKET_PATH, home: null };
}

/** The token in a token file (surrounding whitespace ignored); never echoed in errors. */
export async function readTokenFile(path: string): Promise<string> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? 'error';
    throw new EtlError('USAGE', `cannot read the token file ${path} (${code})`, { cause: error });
  }
  const token = text.trim();
  if (token === '') throw new EtlError('USAGE', `the token file ${path} is empty`);
  return token;
}
