/**
 * The generic webhook's JSON body, version 1 (docs/observability.md shows samples), and its
 * signature. A receiver can rely on:
 *   - `version` (1): a breaking change gets a new number; fields are only ever added within one;
 *   - `event`: `alert.<kind>` or `run.<status>`; `id`: unique per message and the same on every
 *     retry of it (deduplicate on it);
 *   - keys in snake_case, times in ISO-8601 UTC, durations in seconds.
 *
 * Signature (when the channel has a secret): `X-Etld-Timestamp: <unix seconds>` and
 * `X-Etld-Signature: sha256=<hex HMAC-SHA256(secret, "<timestamp>.<body>")>`. Signing the
 * timestamp with the body lets a receiver refuse replays of old messages.
 */
import { createHmac } from 'node:crypto';
import { redact } from '../logging/redact.js';

export const WEBHOOK_VERSION = 1;

export interface Envelope {
  readonly host: string;
  readonly version: string;
}

export interface AlertPayload {
  readonly id: string;
  readonly kind: string;
  readonly pipeline: string | null;
  readonly runId: string | null;
  readonly occurredAt: string;
  readonly subject: string;
  readonly text: string;
  readonly suppressed: number;
  readonly suppressedSince: string | null;
  /** The alert's own fields (camelCase in the daemon): sent in snake_case. */
  readonly details: object;
}

export interface RunEventPayload {
  readonly id: string;
  readonly event: string;
  readonly occurredAt: string;
  readonly run: Readonly<Record<string, unknown>>;
}

function snake(key: string): string {
  return key.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
}

/** camelCase keys to snake_case, and every text through `redact` (driver messages quote DSNs). */
function wire(value: unknown): unknown {
  if (typeof value === 'string') return redact(value);
  if (Array.isArray(value)) return value.map(wire);
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [key, inner] of Object.entries(value)) if (inner !== undefined) out[snake(key)] = wire(inner);
    return out;
  }
  return value;
}

export function alertBody(alert: AlertPayload, envelope: Envelope): string {
  return JSON.stringify({
    version: WEBHOOK_VERSION,
    event: `alert.${alert.kind}`,
    id: alert.id,
    occurred_at: alert.occurredAt,
    host: envelope.host,
    etld_version: envelope.version,
    alert: {
      kind: alert.kind,
      pipeline: alert.pipeline,
      run_id: alert.runId,
      subject: alert.subject,
      text: alert.text,
      suppressed: alert.suppressed,
      suppressed_since: alert.suppressedSince,
      details: wire(alert.details),
    },
  });
}

export function runEventBody(event: RunEventPayload, envelope: Envelope): string {
  return JSON.stringify({
    version: WEBHOOK_VERSION,
    event: event.event,
    id: event.id,
    occurred_at: event.occurredAt,
    host: envelope.host,
    etld_version: envelope.version,
    run: wire(event.run),
  });
}

/** The signature headers for `body` at `unixSeconds` (none without a secret). */
export function signatureHeaders(
  secret: string | null,
  body: string,
  unixSeconds: number,
): Record<string, string> {
  if (secret === null) return {};
  const timestamp = String(Math.floor(unixSeconds));
  const digest = createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex');
  return { 'X-Etld-Timestamp': timestamp, 'X-Etld-Signature': `sha256=${digest}` };
}
