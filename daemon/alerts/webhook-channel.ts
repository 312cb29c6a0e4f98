/**
 * A generic webhook: alerts and (if subscribed) run events as version-1 JSON bodies
 * (webhook-body.ts), HMAC-signed when the channel has a secret.
 */
import type { AlertChannel, AlertKind, AlertMessage } from './alert-channel.js';
import { postJson } from './http-post.js';
import {
  alertBody,
  runEventBody,
  signatureHeaders,
  type Envelope,
  type RunEventPayload,
} from './webhook-body.js';

export interface WebhookChannelOptions {
  readonly name: string;
  readonly url: string;
  readonly secret: string | null;
  readonly isDefault: boolean;
  readonly kinds: readonly AlertKind[] | null;
  readonly takesAlerts: boolean;
  readonly runEvents: readonly string[];
  readonly envelope: Envelope;
  readonly now: () => Date;
  readonly timeoutMs?: number;
}

export class WebhookChannel implements AlertChannel {
  readonly type = 'webhook';
  readonly name: string;
  readonly isDefault: boolean;
  readonly kinds: ReadonlySet<AlertKind> | null;
  readonly takesAlerts: boolean;
  readonly runEvents: ReadonlySet<string>;
  readonly #o: WebhookChannelOptions;

  constructor(options: WebhookChannelOptions) {
    this.#o = options;
    this.name = options.name;
    this.isDefault = options.isDefault;
    this.kinds = options.kinds === null ? null : new Set(options.kinds);
    this.takesAlerts = options.takesAlerts;
    this.runEvents = new Set(options.runEvents);
  }

  sendAlert(message: AlertMessage, signal: AbortSignal): Promise<void> {
    const body = alertBody(
      {
        id: message.id,
        kind: message.kind,
        pipeline: message.pipeline,
        runId: message.runId,
        occurredAt: message.occurredAt,
        subject: message.mail.subject,
        text: message.mail.text,
        suppressed: message.suppressed,
        suppressedSince: message.suppressedSince,
        details: message.details,
      },
      this.#o.envelope,
    );
    return this.#post(`alert.${message.kind}`, message.id, body, signal);
  }

  sendRunEvent(event: RunEventPayload, signal: AbortSignal): Promise<void> {
    return this.#post(event.event, event.id, runEventBody(event, this.#o.envelope), signal);
  }

  #post(event: string, id: string, body: string, signal: AbortSignal): Promise<void> {
    // Signed at each attempt: the timestamp is when this attempt was sent.
    const headers = {
      'X-Etld-Event': event,
      'X-Etld-Delivery': id,
      ...signatureHeaders(this.#o.secret, body, this.#o.now().getTime() / 1000),
    };
    return postJson(`webhook ${this.name}`, this.#o.url, body, headers, {
      signal,
      userAgent: `etld/${this.#o.envelope.version}`,
      ...(this.#o.timeoutMs !== undefined ? { timeoutMs: this.#o.timeoutMs } : {}),
    });
  }
}
