/** Slack through an incoming webhook: the alert mail's content as a Slack message (slack-message.ts). */
import type { AlertChannel, AlertKind, AlertMessage } from './alert-channel.js';
import { postJson } from './http-post.js';
import { slackMessage } from './slack-message.js';

export interface SlackChannelOptions {
  readonly name: string;
  readonly url: string;
  readonly isDefault: boolean;
  readonly kinds: readonly AlertKind[] | null;
  readonly userAgent: string;
  readonly timeoutMs?: number;
}

export class SlackChannel implements AlertChannel {
  readonly type = 'slack';
  readonly takesAlerts = true;
  readonly name: string;
  readonly isDefault: boolean;
  readonly kinds: ReadonlySet<AlertKind> | null;
  readonly #o: SlackChannelOptions;

  constructor(options: SlackChannelOptions) {
    this.#o = options;
    this.name = options.name;
    this.isDefault = options.isDefault;
    this.kinds = options.kinds === null ? null : new Set(options.kinds);
  }

  sendAlert(message: AlertMessage, signal: AbortSignal): Promise<void> {
    return postJson(
      `slack ${this.name}`,
      this.#o.url,
      slackMessage(message.mail),
      {},
      {
        signal,
        userAgent: this.#o.userAgent,
        ...(this.#o.timeoutMs !== undefined ? { timeoutMs: this.#o.timeoutMs } : {}),
      },
    );
  }
}
