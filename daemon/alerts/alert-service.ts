/**
 * E-mail alerts (SPEC §9): final failure, recovery after a failure, stall, low disk.
 *
 * The caller's path never waits and never sees an error: `notify*` decides synchronously (throttle,
 * one row in the state store) and hands delivery to a promise that is always caught. Delivery is
 * retried with exponential backoff a bounded number of times; every alert ends in the store as
 * `sent`, `suppressed` or `failed` (with the reason in `detail`).
 *
 * Recipients: the daemon's default list plus the pipeline's own (`alerts.email` in the pipeline
 * file), de-duplicated. Throttling is per pipeline and kind; a recovery mail resets the failure
 * throttle, so the first failure after a recovery is always mailed.
 */
import type { Logger } from '../logging/logger.js';
import type { AlertRow, StateStore } from '../state/store.js';
import {
  failureMail,
  lowDiskMail,
  recoveryMail,
  stallMail,
  type FailureAlert,
  type LowDiskAlert,
  type MailText,
  type MessageContext,
  type RecoveryAlert,
  type StallAlert,
} from './alert-messages.js';
import { AlertThrottle, type ThrottleState } from './alert-throttle.js';
import { createSmtpTransport, type MailTransport, type SmtpSettings } from './mail-transport.js';

export type AlertStore = Pick<StateStore, 'recordAlert' | 'updateAlert' | 'listAlerts'>;

export interface AlertRetryPolicy {
  readonly attempts: number;
  readonly delayMs: number;
  readonly maxDelayMs: number;
}

export interface AlertServiceOptions {
  /** `smtp` from etld.yaml; null or absent: alerts are recorded as failed, with the reason. */
  readonly smtp?: SmtpSettings | null;
  /** The resolved SMTP password (password_file / password_env), if `smtp.user` is set. */
  readonly smtpPassword?: string | null;
  /** Replaces the SMTP transport built from `smtp` (tests, other transports). */
  readonly transport?: MailTransport | null;
  /** Sender; default `smtp.from`. */
  readonly from?: string;
  readonly defaultRecipients: readonly string[];
  /** The pipeline's own recipients (its file's `alerts.email`). */
  readonly recipientsFor?: (pipeline: string) => readonly string[] | undefined;
  /** `alerts.throttle` in ms. */
  readonly throttleMs: number;
  readonly store: AlertStore;
  readonly logger: Logger;
  readonly host: string;
  /** systemd unit named in the journalctl command. Default `etld`. */
  readonly unit?: string;
  readonly now?: () => Date;
  readonly retry?: AlertRetryPolicy;
}

/** The store's `pipeline` column for host-level alerts: low disk is keyed by the path's label. */
function diskAlertKey(alert: LowDiskAlert): string {
  return `disk:${alert.label ?? alert.path}`;
}

const DEFAULT_RETRY: AlertRetryPolicy = { attempts: 5, delayMs: 5_000, maxDelayMs: 120_000 };
/** How far back the store is asked whether a pipeline is in a failure episode. */
const EPISODE_LOOKBACK_MS = 30 * 86_400_000;

export class AlertService {
  readonly #o: AlertServiceOptions;
  readonly #transport: MailTransport | null;
  readonly #from: string;
  readonly #now: () => Date;
  readonly #retry: AlertRetryPolicy;
  readonly #throttle: AlertThrottle;
  readonly #failing = new Map<string, boolean>();
  readonly #inFlight = new Set<Promise<void>>();
  readonly #stop = new AbortController();

  constructor(options: AlertServiceOptions) {
    this.#o = options;
    this.#transport =
      options.transport ??
      (options.smtp ? createSmtpTransport(options.smtp, options.smtpPassword ?? null) : null);
    this.#from = options.from ?? options.smtp?.from ?? 'etld';
    this.#now = options.now ?? (() => new Date());
    this.#retry = options.retry ?? DEFAULT_RETRY;
    this.#throttle = new AlertThrottle(options.throttleMs);
  }

  /** A run failed for good (retries exhausted). */
  notifyFailure(alert: FailureAlert): void {
    this.#guard(() => {
      this.#failing.set(alert.pipeline, true);
      this.#notify(alert.pipeline, 'failure', alert.runId, (ctx) => failureMail(alert, ctx));
    });
  }

  /** A run succeeded; mails only if the pipeline was in a failure episode. */
  notifyRecovery(alert: RecoveryAlert): void {
    this.#guard(() => {
      if (!this.#isFailing(alert.pipeline)) return;
      this.#failing.set(alert.pipeline, false);
      let suppressedFailures = 0;
      this.#notify(
        alert.pipeline,
        'recovery',
        alert.runId,
        (ctx) => recoveryMail(alert, ctx, suppressedFailures),
        () => {
          suppressedFailures = this.#throttle.reset(`failure:${alert.pipeline}`);
        },
      );
    });
  }

  notifyStall(alert: StallAlert): void {
    this.#guard(() => this.#notify(alert.pipeline, 'stall', alert.runId, (ctx) => stallMail(alert, ctx)));
  }

  notifyLowDisk(alert: LowDiskAlert): void {
    this.#guard(() => this.#notify(diskAlertKey(alert), 'low_disk', null, (ctx) => lowDiskMail(alert, ctx)));
  }

  /** Waits for every delivery in flight (retries included). Never rejects. */
  async flush(): Promise<void> {
    while (this.#inFlight.size > 0) await Promise.all([...this.#inFlight]);
  }

  /**
   * Stops retrying: deliveries waiting for their next attempt are recorded as failed at once; a
   * send already on the wire finishes or times out (the transport's socket timeouts bound it).
   */
  async close(): Promise<void> {
    this.#stop.abort();
    await this.flush();
    this.#transport?.close();
  }

  #guard(action: () => void): void {
    try {
      action();
    } catch (error) {
      // Alerting must never fail a run: a broken store or template is logged, not thrown.
      this.#o.logger.error(`alert not processed: ${error instanceof Error ? error.message : String(error)}`);
    }
  }

  #isFailing(pipeline: string): boolean {
    const known = this.#failing.get(pipeline);
    if (known !== undefined) return known;
    // After a restart: the newest failure/recovery alert in the store says where the episode is.
    const since = new Date(this.#now().getTime() - EPISODE_LOOKBACK_MS).toISOString();
    const last = this.#o.store
      .listAlerts(pipeline, since)
      .find((a) => a.kind === 'failure' || a.kind === 'recovery');
    const failing = last?.kind === 'failure';
    this.#failing.set(pipeline, failing);
    return failing;
  }

  #recipients(key: string): string[] {
    const own = key.startsWith('disk:') ? [] : (this.#o.recipientsFor?.(key) ?? []);
    return [...new Set([...this.#o.defaultRecipients, ...own])];
  }

  /** `beforeCompose` runs only when a mail goes out, before its text is built. */
  #notify(
    key: string,
    kind: AlertRow['kind'],
    runId: string | null,
    compose: (ctx: MessageContext) => MailText,
    beforeCompose?: () => void,
  ): void {
    const now = this.#now();
    const decision = this.#throttle.decide(`${kind}:${key}`, now.getTime(), () => this.#seed(key, kind, now));
    const recipients = this.#recipients(key);
    if (decision.send) beforeCompose?.();
    const mail = compose({
      host: this.#o.host,
      now,
      unit: this.#o.unit ?? 'etld',
      suppressed: decision.suppressed,
      suppressedSince: decision.suppressedSince,
      throttleMs: this.#throttle.windowMs,
    });
    const base = {
      pipeline: key,
      kind,
      runId,
      recipients: recipients.join(', '),
      subject: mail.subject,
      createdAt: now.toISOString(),
    };
    if (!decision.send) {
      this.#o.store.recordAlert({
        ...base,
        status: 'suppressed',
        detail: `throttled: one mail per ${this.#throttle.windowMs} ms`,
      });
      this.#o.logger.info(`alert suppressed by throttle: ${mail.subject}`, {
        pipeline: kind === 'low_disk' ? undefined : key,
        runId: runId ?? undefined,
      });
      return;
    }
    const reason =
      this.#transport === null
        ? 'SMTP is not configured (smtp in etld.yaml)'
        : recipients.length === 0
          ? 'no recipients (alerts.email)'
          : null;
    if (reason !== null) {
      this.#o.store.recordAlert({ ...base, status: 'failed', detail: reason });
      this.#o.logger.warning(`alert not sent, ${reason}: ${mail.subject}`);
      return;
    }
    const row = this.#o.store.recordAlert({ ...base, status: 'pending', detail: null });
    const delivery = this.#deliver(row.id, recipients, mail).catch((error: unknown) => {
      this.#o.logger.error(
        `alert delivery crashed: ${error instanceof Error ? error.message : String(error)}`,
      );
    });
    this.#inFlight.add(delivery);
    void delivery.finally(() => this.#inFlight.delete(delivery));
  }

  #seed(key: string, kind: AlertRow['kind'], now: Date): ThrottleState | undefined {
    const since = new Date(now.getTime() - this.#throttle.windowMs).toISOString();
    const rows = this.#o.store.listAlerts(key, since).filter((a) => a.kind === kind);
    const lastMail = rows.find((a) => a.status !== 'suppressed');
    if (!lastMail) return undefined;
    const suppressed = rows.filter((a) => a.status === 'suppressed' && a.createdAt > lastMail.createdAt);
    return {
      lastSentAt: Date.parse(lastMail.createdAt),
      suppressed: suppressed.length,
      suppressedSince: suppressed.at(-1)?.createdAt ?? null,
    };
  }

  async #deliver(id: number, to: readonly string[], mail: MailText): Promise<void> {
    const transport = this.#transport;
    if (!transport) return;
    let lastError = '';
    for (let attempt = 1; attempt <= this.#retry.attempts; attempt++) {
      if (this.#stop.signal.aborted) break;
      try {
        await transport.send({ from: this.#from, to, subject: mail.subject, text: mail.text });
        this.#o.store.updateAlert(
          id,
          'sent',
          attempt > 1 ? `sent on attempt ${attempt} after: ${lastError}` : null,
        );
        this.#o.logger.info(`alert sent to ${to.join(', ')}: ${mail.subject}`);
        return;
      } catch (error) {
        lastError = error instanceof Error ? error.message : String(error);
        this.#o.logger.warning(
          `alert delivery attempt ${attempt}/${this.#retry.attempts} failed: ${lastError}`,
        );
      }
      if (attempt < this.#retry.attempts) {
        await sleep(
          Math.min(this.#retry.delayMs * 2 ** (attempt - 1), this.#retry.maxDelayMs),
          this.#stop.signal,
        );
      }
    }
    const why = this.#stop.signal.aborted
      ? `daemon stopping; last error: ${lastError || 'none'}`
      : `gave up after ${this.#retry.attempts} attempts: ${lastError}`;
    this.#o.store.updateAlert(id, 'failed', why);
    this.#o.logger.error(`alert not delivered (${why}): ${mail.subject}`);
  }
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const timer = setTimeout(done, ms);
    function done(): void {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });
}
