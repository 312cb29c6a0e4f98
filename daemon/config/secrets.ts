import type { ResolvedConnection } from './resolved-connection.js';
import { accessSync, constants, readFileSync } from 'node:fs';
import { isAbsolute, join } from 'node:path';
import type { ConnectionConfig } from '../../shared/config/common-schema.js';
import type { SecretProbe } from '../../shared/config/pipeline-warnings.js';
import { EtlError } from '../../shared/errors.js';

export interface SecretEnvironment {
  readonly env: Readonly<Record<string, string | undefined>>;
  /** Relative `password_file` paths resolve here: systemd's $CREDENTIALS_DIRECTORY when set. */
  readonly credentialsDirectory?: string;
  readonly readFile?: (path: string) => string;
}

/** Reads a secret named by `password_env` / `password_file`; the value never appears in messages. */
export function readSecret(
  source: { readonly password_env?: string; readonly password_file?: string },
  environment: SecretEnvironment,
  what: string,
): string | undefined {
  if (source.password_env !== undefined) {
    const value = environment.env[source.password_env];
    if (value === undefined) {
      throw new EtlError(
        'SECRET_UNAVAILABLE',
        `${what}: environment variable ${source.password_env} (password_env) is not set in the daemon's environment`,
      );
    }
    return value;
  }
  if (source.password_file !== undefined) {
    const path = secretFilePath(source.password_file, environment);
    try {
      const read = environment.readFile ?? ((p: string) => readFileSync(p, 'utf8'));
      // A trailing newline is an editor artefact, never part of a password.
      return read(path).replace(/\r?\n$/, '');
    } catch (error) {
      const reason = (error as NodeJS.ErrnoException).code ?? 'unreadable';
      throw new EtlError('SECRET_UNAVAILABLE', `${what}: cannot read password_file ${path} (${reason})`, {
        cause: error,
      });
    }
  }
  return undefined;
}

/** Where a `password_file` is read: relative paths under systemd's $CREDENTIALS_DIRECTORY when set. */
function secretFilePath(file: string, environment: SecretEnvironment): string {
  return isAbsolute(file) || environment.credentialsDirectory === undefined
    ? file
    : join(environment.credentialsDirectory, file);
}

/**
 * What the load warnings may know of the daemon's secrets: whether a variable is set and whether
 * a file can be read, never a value.
 */
export function secretProbe(environment: SecretEnvironment): SecretProbe {
  return {
    envIsSet: (name) => environment.env[name] !== undefined,
    fileProblem: (file) => {
      const resolved = secretFilePath(file, environment);
      try {
        accessSync(resolved, constants.R_OK);
        return { resolved, problem: null };
      } catch (error) {
        return { resolved, problem: (error as NodeJS.ErrnoException).code ?? 'unreadable' };
      }
    },
  };
}

/** Turns a configured connection into driver settings with the secret resolved. */
export function resolveConnection(
  connection: ConnectionConfig,
  environment: SecretEnvironment,
  what = 'connection',
): ResolvedConnection {
  const password = readSecret(connection, environment, what);
  return {
    ...(connection.host !== undefined ? { host: connection.host } : {}),
    ...(connection.port !== undefined ? { port: connection.port } : {}),
    ...(connection.socket !== undefined ? { socket: connection.socket } : {}),
    ...(connection.database !== undefined ? { database: connection.database } : {}),
    ...(connection.user !== undefined ? { user: connection.user } : {}),
    ...(password !== undefined ? { password } : {}),
    ...(connection.ssl !== undefined ? { ssl: connection.ssl } : {}),
    ...(connection.instance !== undefined ? { instance: connection.instance } : {}),
    ...(connection.trust_server_certificate !== undefined
      ? { trustServerCertificate: connection.trust_server_certificate }
      : {}),
    ...(connection.connect_timeout !== undefined ? { connectTimeoutMs: connection.connect_timeout } : {}),
    ...(connection.query_timeout !== undefined ? { queryTimeoutMs: connection.query_timeout } : {}),
  };
}

/**
 * A secret given as `<name>_env` / `<name>_file` (tokens, URLs, storage keys), resolved like
 * passwords: relative files under $CREDENTIALS_DIRECTORY, surrounding whitespace trimmed; errors
 * name the key and the variable or file, never a value.
 */
export function secretOf(
  keys: { readonly env: string; readonly file: string },
  env: string | undefined,
  file: string | undefined,
  environment: SecretEnvironment,
  what: string,
): string | undefined {
  if (env !== undefined) {
    const value = environment.env[env];
    if (value === undefined)
      throw new EtlError(
        'SECRET_UNAVAILABLE',
        `${what}: environment variable ${env} (${keys.env}) is not set in the daemon's environment`,
      );
    return value.trim();
  }
  if (file === undefined) return undefined;
  const path =
    isAbsolute(file) || environment.credentialsDirectory === undefined
      ? file
      : join(environment.credentialsDirectory, file);
  try {
    return (environment.readFile ?? ((p: string) => readFileSync(p, 'utf8')))(path).trim();
  } catch (error) {
    const reason = (error as NodeJS.ErrnoException).code ?? 'unreadable';
    throw new EtlError('SECRET_UNAVAILABLE', `${what}: cannot read ${keys.file} ${path} (${reason})`, {
      cause: error,
    });
  }
}
