/**
 * The secrets etld.yaml names (the SMTP password, alert channel URLs and HMAC secrets, the /metrics
 * token, the control listener tokens): read at start-up by the daemon, and by `etld --check-config`
 * so a missing variable or an unreadable file is reported before a restart fails on it. Problems
 * name the setting and the variable or file, never a value.
 */
import { dirname } from 'node:path';
import type { DaemonSettings } from '../shared/config/daemon-schema.js';
import { EtlError, toEtlError } from '../shared/errors.js';
import { buildAlertChannels } from './alerts/alert-channels.js';
import { controlListeners } from './control/listener-settings.js';
import { readSecret, secretOf, type SecretEnvironment } from './config/secrets.js';

/** The /metrics bearer token (`http.token_env` / `token_file`), or null for an open endpoint. */
export function httpToken(
  http: NonNullable<DaemonSettings['http']>,
  secrets: SecretEnvironment,
): string | null {
  if (http.token_env === undefined && http.token_file === undefined) return null;
  const token = secretOf(
    { env: 'token_env', file: 'token_file' },
    http.token_env,
    http.token_file,
    secrets,
    'http',
  );
  if (!token)
    throw new EtlError('SECRET_UNAVAILABLE', 'http: the bearer token (token_env / token_file) is empty');
  return token;
}

/** The shared state store's connection URL (`state.url_env` / `url_file`), for `type: postgres`. */
export function stateStoreUrl(
  state: Extract<DaemonSettings['state'], { type: 'postgres' }>,
  secrets: SecretEnvironment,
): string {
  const url = secretOf({ env: 'url_env', file: 'url_file' }, state.url_env, state.url_file, secrets, 'state');
  if (!url)
    throw new EtlError(
      'SECRET_UNAVAILABLE',
      'state: the PostgreSQL connection URL (url_env / url_file) is empty',
    );
  return url;
}

/** Every secret of the settings resolved as start-up resolves it; one problem per one that fails. */
export function settingsSecretProblems(
  settings: DaemonSettings,
  secrets: SecretEnvironment,
  paths: { readonly settingsFile: string; readonly socketPath: string },
): string[] {
  const problems: string[] = [];
  const attempt = (resolve: () => unknown): void => {
    try {
      resolve();
    } catch (error) {
      problems.push(toEtlError(error).message);
    }
  };
  if (settings.smtp) {
    const smtp = settings.smtp;
    attempt(() => readSecret(smtp, secrets, 'smtp'));
  }
  // One channel at a time, so each broken one is named.
  for (const channel of settings.alerts.channels)
    attempt(() => buildAlertChannels([channel], secrets, { host: 'check', version: 'check' }));
  if (settings.state.type === 'postgres') {
    const state = settings.state;
    attempt(() => stateStoreUrl(state, secrets));
  }
  if (settings.http) {
    const http = settings.http;
    attempt(() => httpToken(http, secrets));
  }
  attempt(() =>
    controlListeners({
      control: settings.control,
      socketPath: paths.socketPath,
      settingsDir: dirname(paths.settingsFile),
      secrets,
    }),
  );
  return problems;
}
