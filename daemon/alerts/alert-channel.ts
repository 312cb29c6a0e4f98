/**
 * What an alert channel is to the AlertService (SMTP stays the service's own): a name, which
 * alerts it takes, and one delivery attempt. Retries, throttling and the alert's record in the
 * state store stay in the service, so every channel behaves the same way.
 */
import type { AlertRow } from '../state/store.js';
import type { MailText } from './alert-messages.js';

export type AlertKind = AlertRow['kind'];

/** One alert as every channel receives it: the mail's text plus the alert's own fields. */
export interface AlertMessage {
  /** Unique per alert and channel, the same on every retry (webhook receivers deduplicate on it). */
  readonly id: string;
  readonly kind: AlertKind;
  /** Null for host alerts (low disk). */
  readonly pipeline: string | null;
  readonly runId: string | null;
  readonly occurredAt: string;
  readonly mail: MailText;
  readonly suppressed: number;
  readonly suppressedSince: string | null;
  readonly details: object;
}

export interface AlertChannel {
  readonly name: string;
  readonly type: 'webhook' | 'slack';
  /** Takes every pipeline's alerts (and host alerts), not only those of pipelines naming it. */
  readonly isDefault: boolean;
  /** Null: every kind. */
  readonly kinds: ReadonlySet<AlertKind> | null;
  /** False for a webhook that only takes run events (`alerts: false`). */
  readonly takesAlerts: boolean;
  /** One attempt; rejects with a DeliveryError (`permanent`: do not retry). */
  sendAlert(message: AlertMessage, signal: AbortSignal): Promise<void>;
}

/**
 * The channels an alert goes to: default channels, plus those the pipeline names in its
 * `alerts.channels`, that take this kind. `pipelineChannels` is null for host alerts (defaults only).
 * Names a pipeline gives that no channel has are returned as `unknown`.
 */
export function routeAlert(
  channels: readonly AlertChannel[],
  kind: AlertKind,
  pipelineChannels: readonly string[] | null,
): { routes: AlertChannel[]; unknown: string[] } {
  const named = new Set(pipelineChannels ?? []);
  const routes = channels.filter(
    (c) => c.takesAlerts && (c.isDefault || named.has(c.name)) && (c.kinds === null || c.kinds.has(kind)),
  );
  const unknown = [...named].filter((name) => !channels.some((c) => c.name === name));
  return { routes, unknown };
}
