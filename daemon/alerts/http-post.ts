/**
 * One HTTP POST of a JSON body, as webhook and Slack channels send it. The URL is a secret (Slack's
 * carries its token in the path), so no error message here ever contains it: failures name the
 * channel, the status and at most a short, redacted excerpt of the receiver's answer.
 *
 * A 4xx answer other than 408 and 429 is permanent (the receiver refuses this request and will
 * refuse it again): callers stop retrying. Timeouts, network errors, 408, 429 and 5xx are retried.
 */
import { redact } from '../logging/redact.js';

export class DeliveryError extends Error {
  readonly permanent: boolean;
  constructor(message: string, permanent: boolean) {
    super(message);
    this.name = 'DeliveryError';
    this.permanent = permanent;
  }
}

export interface PostOptions {
  readonly timeoutMs?: number;
  /** Aborts the request (daemon shutdown). */
  readonly signal?: AbortSignal;
  readonly userAgent: string;
}

function excerpt(text: string): string {
  const line = redact(text.replace(/\s+/g, ' ').trim()).slice(0, 200);
  return line === '' ? '' : `: ${line}`;
}

export async function postJson(
  channel: string,
  url: string,
  body: string,
  headers: Readonly<Record<string, string>>,
  options: PostOptions,
): Promise<void> {
  const timeout = AbortSignal.timeout(options.timeoutMs ?? 10_000);
  const signal = options.signal ? AbortSignal.any([options.signal, timeout]) : timeout;
  let response: Response;
  try {
    response = await fetch(url, {
      method: 'POST',
      headers: {
        'Content-Type': 'application/json; charset=utf-8',
        'User-Agent': options.userAgent,
        ...headers,
      },
      body,
      signal,
      redirect: 'error',
    });
  } catch (error) {
    const cause = (error as { cause?: { code?: string; message?: string } }).cause;
    const reason = timeout.aborted
      ? `no answer within ${(options.timeoutMs ?? 10_000) / 1000}s`
      : (cause?.code ?? cause?.message ?? (error instanceof Error ? error.name : 'request failed'));
    throw new DeliveryError(`${channel}: ${reason}`, false);
  }
  const text = await response.text().catch(() => '');
  if (response.ok) return;
  const permanent = response.status >= 400 && response.status < 500 && ![408, 429].includes(response.status);
  throw new DeliveryError(`${channel}: HTTP ${response.status}${excerpt(text)}`, permanent);
}
