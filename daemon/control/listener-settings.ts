/**
 * etld.yaml's `control:` turned into the control server's listeners: the read-only socket (its
 * path, mode and group) and the TCP listener with its tokens: the operator token from `token_env` /
 * `token_file`, the read-only token from `readonly_token_env` / `readonly_token_file`, each resolved
 * like every other secret (relative files under $CREDENTIALS_DIRECTORY). Errors name the setting,
 * never a value.
 */
import { readFileSync } from 'node:fs';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import type { DaemonSettings } from '../../shared/config/daemon-schema.js';
import { EtlError } from '../../shared/errors.js';
import { secretOf, type SecretEnvironment } from '../config/secrets.js';
import type { ControlServerOptions } from './server.js';

export const READ_ONLY_SOCKET_NAME = 'etld-ro.sock';

export interface ListenerInputs {
  readonly control: DaemonSettings['control'];
  readonly socketPath: string;
  /** Relative paths in etld.yaml resolve against its directory. */
  readonly settingsDir: string;
  readonly secrets: SecretEnvironment;
  /** `/etc/group`'s text, to turn a group name into its number (injected by tests). */
  readonly groupFile?: () => string;
}

type Listeners = Pick<ControlServerOptions, 'readOnlySocket' | 'tcp'>;

/** `host:port` of a `listen:` setting (validated by the schema). */
export function parseListen(listen: string): { host: string; port: number } {
  const index = listen.lastIndexOf(':');
  return { host: listen.slice(0, index), port: Number(listen.slice(index + 1)) };
}

/** A group name's number from group(5) lines `name:x:gid:members`; a number is taken as it is. */
export function groupId(group: string | number, groupFile: () => string): number {
  if (typeof group === 'number') return group;
  let text: string;
  try {
    text = groupFile();
  } catch (error) {
    throw new EtlError('CONFIG_INVALID', `control.readonly_socket.group ${group}: cannot read /etc/group`, {
      cause: error,
    });
  }
  for (const line of text.split('\n')) {
    const [name, , gid] = line.split(':');
    if (name === group && gid !== undefined && /^\d+$/.test(gid)) return Number(gid);
  }
  throw new EtlError(
    'CONFIG_INVALID',
    `control.readonly_socket.group: no group named "${group}" on this host`,
  );
}

export function controlListeners(inputs: ListenerInputs): Listeners {
  const { control, socketPath, settingsDir, secrets } = inputs;
  const groupFile = inputs.groupFile ?? (() => readFileSync('/etc/group', 'utf8'));
  const listeners: { -readonly [K in keyof Listeners]: Listeners[K] } = {};
  const ro = control.readonly_socket;
  if (ro) {
    const path =
      ro.path === undefined
        ? join(dirname(socketPath), READ_ONLY_SOCKET_NAME)
        : isAbsolute(ro.path)
          ? ro.path
          : resolve(settingsDir, ro.path);
    listeners.readOnlySocket = {
      path,
      mode: Number.parseInt(ro.mode, 8),
      ...(ro.group === undefined ? {} : { gid: groupId(ro.group, groupFile) }),
    };
  }
  const tcp = control.tcp;
  if (tcp) {
    const token =
      secretOf(
        { env: 'token_env', file: 'token_file' },
        tcp.token_env,
        tcp.token_file,
        secrets,
        'control.tcp',
      ) ?? null;
    if (token === '') throw new EtlError('SECRET_UNAVAILABLE', 'control.tcp: the operator token is empty');
    const readOnlyToken =
      secretOf(
        { env: 'readonly_token_env', file: 'readonly_token_file' },
        tcp.readonly_token_env,
        tcp.readonly_token_file,
        secrets,
        'control.tcp',
      ) ?? null;
    if (readOnlyToken === '')
      throw new EtlError('SECRET_UNAVAILABLE', 'control.tcp: the read-only token is empty');
    listeners.tcp = { ...parseListen(tcp.listen), token, readOnlyToken };
  }
  return listeners;
}
