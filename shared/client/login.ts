import { userInfo } from 'node:os';

/**
 * The login running a client, sent in its hello so the daemon can record who asked for a change
 * or a run: `alice`, or `alice via sudo as root` under sudo. Undefined when it cannot be told.
 */
export function loginName(env: Readonly<Record<string, string | undefined>>): string | undefined {
  let name: string | undefined;
  try {
    name = userInfo().username;
  } catch {
    // No passwd entry for the uid (a container): fall back on what the shell says.
    name = env.USER ?? env.LOGNAME;
  }
  const sudoer = env.SUDO_USER;
  if (sudoer !== undefined && sudoer !== '' && sudoer !== name)
    return `${sudoer} via sudo as ${name ?? 'another user'}`;
  return name === '' ? undefined : name;
}
