/**
 * systemd's watchdog (`WatchdogSec=`): keep-alives sent from a timer on the daemon's own event
 * loop. A loop blocked by a synchronous call or a busy loop cannot run the timer, the keep-alives
 * stop, and systemd kills and restarts the daemon (`Restart=on-failure`). That is the point: the
 * timer is deliberately not on another thread, which would keep pinging for a hung daemon.
 *
 * The interval is a third of WATCHDOG_USEC (sd_watchdog_enabled(3) asks for at most half), so one
 * late tick on a busy machine does not cost a restart.
 */
import type { ServiceNotifier } from './sd-notify.js';

/**
 * The keep-alive interval in ms from the environment systemd sets, or null without a watchdog.
 * WATCHDOG_PID, when set, must be this process: the variables may have leaked from a parent.
 */
export function watchdogIntervalMs(
  env: { readonly WATCHDOG_USEC?: string | undefined; readonly WATCHDOG_PID?: string | undefined },
  pid: number,
): number | null {
  const usec = Number(env.WATCHDOG_USEC);
  if (!Number.isFinite(usec) || usec <= 0) return null;
  if (env.WATCHDOG_PID !== undefined && env.WATCHDOG_PID !== '' && Number(env.WATCHDOG_PID) !== pid)
    return null;
  return Math.max(1, Math.floor(usec / 1000 / 3));
}

export class WatchdogKeepAlive {
  readonly #notifier: ServiceNotifier;
  readonly #intervalMs: number;
  #timer: NodeJS.Timeout | null = null;

  constructor(notifier: ServiceNotifier, intervalMs: number) {
    this.#notifier = notifier;
    this.#intervalMs = intervalMs;
  }

  start(): void {
    if (this.#timer !== null) return;
    this.#notifier.watchdog();
    this.#timer = setInterval(() => this.#notifier.watchdog(), this.#intervalMs);
    // The keep-alive alone must not hold a finished process open.
    this.#timer.unref();
  }

  stop(): void {
    if (this.#timer !== null) clearInterval(this.#timer);
    this.#timer = null;
  }
}
