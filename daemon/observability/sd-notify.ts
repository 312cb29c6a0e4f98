/**
 * systemd's service notification protocol (sd_notify(3)) for `Type=notify`: `READY=1` once the
 * daemon serves, `STATUS=` lines for `systemctl status`, `STOPPING=1` when it drains, and
 * `WATCHDOG=1` keep-alives. Messages are `KEY=value` lines in one datagram to $NOTIFY_SOCKET.
 *
 * Decisions: without NOTIFY_SOCKET (not under systemd, or `Type=exec`) every call is a no-op;
 * sending never throws and never blocks the caller: a failure is logged once (a broken notify
 * socket would otherwise log every keep-alive), and later successes log the recovery.
 */
import type { Logger } from '../logging/logger.js';
import type { DatagramSender } from './unix-datagram.js';

export interface ServiceNotifier {
  /** The daemon serves: the control socket listens and start-up reconciliation is done. */
  ready(status: string): void;
  status(text: string): void;
  /** The drain began. */
  stopping(status: string): void;
  /** One keep-alive for `WatchdogSec=`. */
  watchdog(): void;
  close(): void;
}

export const noNotifier: ServiceNotifier = {
  ready: () => undefined,
  status: () => undefined,
  stopping: () => undefined,
  watchdog: () => undefined,
  close: () => undefined,
};

/** STATUS= is one line: systemd shows it as is. */
function oneLine(text: string): string {
  return text.replace(/[\r\n]+/g, ' ').slice(0, 1000);
}

export class SdNotifier implements ServiceNotifier {
  readonly #socket: string;
  readonly #sender: DatagramSender;
  readonly #logger: Logger;
  #failing = false;

  /**
   * `socketPath` is $NOTIFY_SOCKET: an absolute path or `@abstract`. Anything else is refused by
   * sd_notify too; the caller checks with {@link isNotifySocket}.
   */
  constructor(socketPath: string, sender: DatagramSender, logger: Logger) {
    this.#socket = socketPath;
    this.#sender = sender;
    this.#logger = logger;
  }

  ready(status: string): void {
    this.#send(`READY=1\nSTATUS=${oneLine(status)}`);
  }

  status(text: string): void {
    this.#send(`STATUS=${oneLine(text)}`);
  }

  stopping(status: string): void {
    this.#send(`STOPPING=1\nSTATUS=${oneLine(status)}`);
  }

  watchdog(): void {
    this.#send('WATCHDOG=1');
  }

  close(): void {
    this.#sender.close();
  }

  #send(message: string): void {
    this.#sender.send(this.#socket, Buffer.from(message, 'utf8')).then(
      () => {
        if (!this.#failing) return;
        this.#failing = false;
        this.#logger.notice(`systemd notify socket ${this.#socket} accepts messages again`);
      },
      (error: unknown) => {
        if (this.#failing) return;
        this.#failing = true;
        this.#logger.warning(
          `cannot notify systemd through ${this.#socket}: ${error instanceof Error ? error.message : String(error)}`,
        );
      },
    );
  }
}

export function isNotifySocket(path: string | undefined): path is string {
  return path !== undefined && (path.startsWith('/') || (path.startsWith('@') && path.length > 1));
}
