/**
 * Builds the alert channels of etld.yaml (`alerts.channels`) with their secrets resolved: the URL
 * from `url_env` / `url_file` (a Slack or webhook URL carries its token) and a webhook's HMAC
 * secret from `secret_env` / `secret_file`. Relative files resolve under $CREDENTIALS_DIRECTORY,
 * as for passwords. A missing secret stops start-up with SECRET_UNAVAILABLE, naming the channel and
 * the variable or file, never a value.
 */
import type { AlertChannelSettings } from '../../shared/config/daemon-schema.js';
import { secretOf, type SecretEnvironment } from '../config/secrets.js';
import type { AlertChannel } from './alert-channel.js';
import { SlackChannel } from './slack-channel.js';
import type { Envelope } from './webhook-body.js';
import { WebhookChannel } from './webhook-channel.js';

export interface BuiltChannels {
  readonly alertChannels: readonly AlertChannel[];
  /** Webhooks, for run events (those with `run_events`). */
  readonly webhooks: readonly WebhookChannel[];
}

export function buildAlertChannels(
  settings: readonly AlertChannelSettings[],
  environment: SecretEnvironment,
  envelope: Envelope,
  now: () => Date = () => new Date(),
): BuiltChannels {
  const alertChannels: AlertChannel[] = [];
  const webhooks: WebhookChannel[] = [];
  for (const channel of settings) {
    const what = `alerts.channels ${channel.name}`;
    const url =
      secretOf({ env: 'url_env', file: 'url_file' }, channel.url_env, channel.url_file, environment, what) ??
      '';
    const kinds = channel.kinds ?? null;
    if (channel.type === 'slack') {
      alertChannels.push(
        new SlackChannel({
          name: channel.name,
          url,
          isDefault: channel.default,
          kinds,
          userAgent: `etld/${envelope.version}`,
        }),
      );
      continue;
    }
    const webhook = new WebhookChannel({
      name: channel.name,
      url,
      secret:
        secretOf(
          { env: 'secret_env', file: 'secret_file' },
          channel.secret_env,
          channel.secret_file,
          environment,
          what,
        ) ?? null,
      isDefault: channel.default,
      kinds,
      takesAlerts: channel.alerts,
      runEvents: channel.run_events,
      envelope,
      now,
    });
    alertChannels.push(webhook);
    webhooks.push(webhook);
  }
  return { alertChannels, webhooks };
}
