/**
 * Alerts: final failure, recovery after a failure, stall, low disk, freshness (stale, fresh
 * again), data quality checks that warned or quarantined rows of a committed run, failing table
 * upkeep, and files a files source quarantined, by e-mail and through the channels of
 * `alerts.channels` (webhook, Slack).
 *
 * The caller's path never waits and never sees an error: `notify*` decides synchronously (throttle,
 * one row in the state store) and hands delivery to a promise that is always caught. Delivery is
 * retried with exponential backoff a bounded number of times; every alert ends in the store as
 * `sent`, `suppressed` or `failed` (with the reason in `detail`).
 *
 * Recipients: the daemon's default list plus the pipeline's own (`alerts.email` in the pipeline
 * file), de-duplicated. Channels: the default ones plus those the pipeline names in its
 * `alerts.channels`, each filtered by its `kinds`. Throttling is per pipeline and kind, decided
 * once per alert for every channel; a recovery resets the failure throttle, so the first failure
 * after a recovery always goes out. Each channel's delivery is its own row in the store (the
 * `recipients` column says `slack:<name>` / `webhook:<name>`), retried on its own.
 *
 * E-mail is skipped without a word when other channels take the alert and no address is
 * configured; with no channel at all, the missing SMTP settings or recipients are recorded.
 */
import type { Logger } from '../logging/logger.js';
import type { AlertRow, StateStore } from '../state/store.js';
import { routeAlert, type AlertChannel, type AlertMessage } from './alert-channel.js';
import {
  checksMail,
  failureMail,
  freshMail,
  lowDiskMail,
  maintenanceMail,
  recoveryMail,
  stallMail,
  staleMail,
  type ChecksAlert,
  type FailureAlert,
  type FreshAlert,
  type LowDiskAlert,
  type MaintenanceAlert,
  type MailText,
  type MessageContext,
  type RecoveryAlert,
  type StaleAlert,
  type StallAlert,
} from './alert-messages.js';
import { AlertThrottle, type ThrottleState } from './alert-throttle.js';
import {
  filesQuarantinedDetails,
  filesQuarantinedMail,
  type FilesQuarantinedAlert,
} from './files-quarantined-message.js';
import { DeliveryError } from './http-post.js';
import {
  stateStoreBackMail,
  stateStoreDownMail,
  type StateStoreBackAlert,
  type StateStoreDownAlert,
} from './state-store-message.js';
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
  /** Webhook and Slack channels (alert-channels.ts). */
  readonly channels?: readonly AlertChannel[];
  /** The channel names a pipeline's file gives in `alerts.channels`. */
  readonly channelsFor?: (pipeline: string) => readonly string[] | undefined;
  /** Counts outcomes per kind and channel (`email` for SMTP) for /metrics. */
  readonly onOutcome?: (
    kind: AlertRow['kind'],
    channel: string,
    status: 'sent' | 'failed' | 'suppressed',
  ) => void;
}

/** The store's `pipeline` column for host-level alerts: low disk is keyed by the path's label. */
function diskAlertKey(alert: LowDiskAlert): string {
  return `disk:${alert.label ?? alert.path}`;
}

/** How often, and how far apart, the end of a state store outage is tried while the store's own connection catches up. */
const STATE_STORE_BACK_ATTEMPTS = 10;
const STATE_STORE_BACK_RETRY_MS = 2_000;

/** The store's `pipeline` column for the state store alerts of this host. */
const STATE_STORE_KEY = 'host:state-store';

/** Host-level alerts (no pipeline): low disk, the state store. */
function isHostKey(key: string): boolean {
  return key.startsWith('disk:') || key.startsWith('host:');
}

/** What finally becomes of a delivery: its row's id, or where to report when it has none yet. */
type DeliveryRecord = number | ((status: 'sent' | 'failed', detail: string | null) => void);

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
  /** Alerts sent while the state store could not record them, written once it answers again. */
  readonly #unrecorded: Omit<AlertRow, 'id'>[] = [];

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
      this.#notify(
        alert.pipeline,
        'failure',
        alert.runId,
        (ctx) => failureMail(alert, ctx),
        undefined,
        alert,
      );
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
        alert,
      );
    });
  }

  /**
   * A run committed with data quality checks that warned or quarantined rows; nothing is sent when
   * every check passed. Throttled like the others, so a pipeline that warns on every run mails once
   * per window with the count of those suppressed.
   */
  notifyChecks(alert: ChecksAlert): void {
    this.#guard(() => {
      if (!alert.checks.some((c) => c.status === 'warn' || c.status === 'quarantine')) return;
      this.#notify(alert.pipeline, 'checks', alert.runId, (ctx) => checksMail(alert, ctx), undefined, alert);
    });
  }

  /** A committed run's table upkeep (a Delta checkpoint) failed several times in a row. */
  notifyMaintenance(alert: MaintenanceAlert): void {
    this.#guard(() =>
      this.#notify(
        alert.pipeline,
        'maintenance',
        alert.runId,
        (ctx) => maintenanceMail(alert, ctx),
        undefined,
        alert,
      ),
    );
  }

  /**
   * A run kept bad files out of its load (`source.on_bad_file: skip`) and succeeded; nothing is sent
   * for a run that quarantined none. Throttled per pipeline like the others.
   */
  notifyFilesQuarantined(alert: FilesQuarantinedAlert): void {
    this.#guard(() => {
      if (alert.files.length === 0) return;
      this.#notify(
        alert.pipeline,
        'files_quarantined',
        alert.runId,
        (ctx) => filesQuarantinedMail(alert, ctx),
        undefined,
        filesQuarantinedDetails(alert),
      );
    });
  }

  notifyStall(alert: StallAlert): void {
    this.#guard(() =>
      this.#notify(alert.pipeline, 'stall', alert.runId, (ctx) => stallMail(alert, ctx), undefined, alert),
    );
  }

  notifyLowDisk(alert: LowDiskAlert): void {
    this.#guard(() =>
      this.#notify(diskAlertKey(alert), 'low_disk', null, (ctx) => lowDiskMail(alert, ctx), undefined, alert),
    );
  }

  /** The pipeline's last success is older than its freshness (sent once per episode by the monitor). */
  notifyStale(alert: StaleAlert): void {
    this.#guard(() =>
      this.#notify(alert.pipeline, 'stale', null, (ctx) => staleMail(alert, ctx), undefined, alert),
    );
  }

  notifyFresh(alert: FreshAlert): void {
    this.#guard(() =>
      this.#notify(alert.pipeline, 'fresh', alert.runId, (ctx) => freshMail(alert, ctx), undefined, alert),
    );
  }

  /**
   * The shared state store stopped answering this host (fleet mode; once per outage). Sent by
   * e-mail and to the channels that take `state_store` alerts without a row first, as every other
   * alert has, because the store is what is down; the rows are written when it answers again.
   */
  notifyStateStoreDown(alert: StateStoreDownAlert): void {
    this.#guard(() => {
      const now = this.#now();
      const mail = stateStoreDownMail(alert, this.#context(now, { suppressed: 0, suppressedSince: null }));
      const base = {
        pipeline: STATE_STORE_KEY,
        kind: 'state_store' as const,
        runId: null,
        subject: mail.subject,
        createdAt: now.toISOString(),
      };
      const later = (recipients: string) => (status: 'sent' | 'failed', detail: string | null) =>
        this.#recordWhenPossible({ ...base, recipients, status, detail });
      const recipients = this.#recipients(STATE_STORE_KEY);
      const { routes } = routeAlert(this.#o.channels ?? [], 'state_store', null);
      const transport = this.#transport;
      if (transport !== null && recipients.length > 0) {
        const to = recipients.join(', ');
        this.#track(
          this.#deliver(later(to), 'state_store', 'email', mail.subject, to, () =>
            transport.send({ from: this.#from, to: recipients, subject: mail.subject, text: mail.text }),
          ),
        );
      } else if (routes.length === 0) {
        this.#o.logger.warning(`alert not sent, no e-mail or channel for it: ${mail.subject}`);
      }
      for (const channel of routes) {
        const message: AlertMessage = {
          id: `${this.#o.host}:alert:state-store:${alert.since}`,
          kind: 'state_store',
          pipeline: null,
          runId: null,
          occurredAt: now.toISOString(),
          mail,
          suppressed: 0,
          suppressedSince: null,
          details: alert,
        };
        const label = channelLabel(channel);
        this.#track(
          this.#deliver(later(label), 'state_store', channel.name, mail.subject, label, (signal) =>
            channel.sendAlert(message, signal),
          ),
        );
      }
    });
  }

  /** The state store answers again: the outage's alerts are recorded, and its end is sent. */
  notifyStateStoreBack(alert: StateStoreBackAlert): void {
    this.#guard(() => this.#sendStateStoreBack(alert, 1));
  }

  /**
   * The heartbeat that saw the store back runs on the coordinator's connection; the store's own
   * connection may still be waiting out its reconnect pause, so the end of the outage (recorded
   * before it is sent, as every alert) is tried again a few times rather than lost.
   */
  #sendStateStoreBack(alert: StateStoreBackAlert, attempt: number): void {
    for (const row of this.#unrecorded.splice(0)) this.#recordWhenPossible(row);
    try {
      this.#notify(
        STATE_STORE_KEY,
        'state_store',
        null,
        (ctx) => stateStoreBackMail(alert, ctx),
        undefined,
        alert,
      );
    } catch (error) {
      if (attempt >= STATE_STORE_BACK_ATTEMPTS || this.#stop.signal.aborted) throw error;
      setTimeout(
        () => this.#guard(() => this.#sendStateStoreBack(alert, attempt + 1)),
        STATE_STORE_BACK_RETRY_MS,
      ).unref();
    }
  }

  #recordWhenPossible(row: Omit<AlertRow, 'id'>): void {
    try {
      this.#o.store.recordAlert(row);
    } catch {
      this.#unrecorded.push(row);
    }
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
    const own = isHostKey(key) ? [] : (this.#o.recipientsFor?.(key) ?? []);
    return [...new Set([...this.#o.defaultRecipients, ...own])];
  }

  /** `beforeCompose` runs only when an alert goes out, before its text is built. */
  #notify(
    key: string,
    kind: AlertRow['kind'],
    runId: string | null,
    compose: (ctx: MessageContext) => MailText,
    beforeCompose: (() => void) | undefined,
    details: object,
  ): void {
    const now = this.#now();
    // A state store alert is sent once per outage by its caller, and its end must follow its start.
    const decision =
      kind === 'state_store'
        ? { send: true, suppressed: 0, suppressedSince: null }
        : this.#throttle.decide(`${kind}:${key}`, now.getTime(), () => this.#seed(key, kind, now));
    const recipients = this.#recipients(key);
    const pipeline = isHostKey(key) ? null : key;
    const { routes, unknown } = routeAlert(
      this.#o.channels ?? [],
      kind,
      pipeline === null ? null : (this.#o.channelsFor?.(pipeline) ?? []),
    );
    const useEmail = recipients.length > 0 || routes.length === 0;
    if (decision.send) beforeCompose?.();
    const mail = compose(this.#context(now, decision));
    const base = {
      pipeline: key,
      kind,
      runId,
      subject: mail.subject,
      createdAt: now.toISOString(),
    };
    if (!decision.send) {
      const everyone = [...(useEmail ? recipients : []), ...routes.map(channelLabel)];
      this.#o.store.recordAlert({
        ...base,
        recipients: everyone.join(', '),
        status: 'suppressed',
        detail: `throttled: one mail per ${this.#throttle.windowMs} ms`,
      });
      if (useEmail) this.#o.onOutcome?.(kind, 'email', 'suppressed');
      for (const route of routes) this.#o.onOutcome?.(kind, route.name, 'suppressed');
      this.#o.logger.info(`alert suppressed by throttle: ${mail.subject}`, {
        pipeline: pipeline ?? undefined,
        runId: runId ?? undefined,
      });
      return;
    }
    for (const name of unknown) {
      const detail = `unknown channel "${name}" (the pipeline's alerts.channels names no channel of alerts.channels in etld.yaml)`;
      this.#o.store.recordAlert({ ...base, recipients: name, status: 'failed', detail });
      this.#o.logger.warning(`alert not sent to ${name}: ${detail}`, { pipeline: pipeline ?? undefined });
    }
    if (useEmail) this.#email(base, recipients, mail);
    for (const channel of routes) {
      const row = this.#o.store.recordAlert({
        ...base,
        recipients: channelLabel(channel),
        status: 'pending',
        detail: null,
      });
      const message: AlertMessage = {
        id: `${this.#o.host}:alert:${row.id}`,
        kind,
        pipeline,
        runId,
        occurredAt: now.toISOString(),
        mail,
        suppressed: decision.suppressed,
        suppressedSince: decision.suppressedSince,
        details,
      };
      this.#track(
        this.#deliver(row.id, kind, channel.name, mail.subject, channelLabel(channel), (signal) =>
          channel.sendAlert(message, signal),
        ),
      );
    }
  }

  #context(
    now: Date,
    decision: { readonly suppressed: number; readonly suppressedSince: string | null },
  ): MessageContext {
    return {
      host: this.#o.host,
      now,
      unit: this.#o.unit ?? 'etld',
      suppressed: decision.suppressed,
      suppressedSince: decision.suppressedSince,
      throttleMs: this.#throttle.windowMs,
    };
  }

  #email(
    base: {
      pipeline: string;
      kind: AlertRow['kind'];
      runId: string | null;
      subject: string;
      createdAt: string;
    },
    recipients: readonly string[],
    mail: MailText,
  ): void {
    const reason =
      this.#transport === null
        ? 'SMTP is not configured (smtp in etld.yaml)'
        : recipients.length === 0
          ? 'no recipients (alerts.email)'
          : null;
    const row = { ...base, recipients: recipients.join(', ') };
    if (reason !== null) {
      this.#o.store.recordAlert({ ...row, status: 'failed', detail: reason });
      this.#o.onOutcome?.(base.kind, 'email', 'failed');
      this.#o.logger.warning(`alert not sent, ${reason}: ${mail.subject}`);
      return;
    }
    const transport = this.#transport;
    if (transport === null) return;
    const recorded = this.#o.store.recordAlert({ ...row, status: 'pending', detail: null });
    this.#track(
      this.#deliver(recorded.id, base.kind, 'email', mail.subject, recipients.join(', '), () =>
        transport.send({ from: this.#from, to: recipients, subject: mail.subject, text: mail.text }),
      ),
    );
  }

  #track(delivery: Promise<void>): void {
    const tracked = delivery.catch((error: unknown) => {
      this.#o.logger.error(
        `alert delivery crashed: ${error instanceof Error ? error.message : String(error)}`,
      );
    });
    this.#inFlight.add(tracked);
    void tracked.finally(() => this.#inFlight.delete(tracked));
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

  /** Attempts one delivery with retries and backoff; the row ends `sent` or `failed`. */
  async #deliver(
    record: DeliveryRecord,
    kind: AlertRow['kind'],
    channel: string,
    subject: string,
    to: string,
    attemptOnce: (signal: AbortSignal) => Promise<void>,
  ): Promise<void> {
    let lastError = '';
    let permanent = false;
    for (let attempt = 1; attempt <= this.#retry.attempts; attempt++) {
      if (this.#stop.signal.aborted) break;
      try {
        await attemptOnce(this.#stop.signal);
        this.#settle(record, 'sent', attempt > 1 ? `sent on attempt ${attempt} after: ${lastError}` : null);
        this.#o.onOutcome?.(kind, channel, 'sent');
        this.#o.logger.info(`alert sent to ${to}: ${subject}`);
        return;
      } catch (error) {
        lastError = error instanceof Error ? error.message : String(error);
        permanent = error instanceof DeliveryError && error.permanent;
        this.#o.logger.warning(
          `alert delivery attempt ${attempt}/${this.#retry.attempts} failed: ${lastError}`,
        );
        if (permanent) break;
      }
      if (attempt < this.#retry.attempts) {
        await sleep(
          Math.min(this.#retry.delayMs * 2 ** (attempt - 1), this.#retry.maxDelayMs),
          this.#stop.signal,
        );
      }
    }
    const why = permanent
      ? `refused, not retried: ${lastError}`
      : this.#stop.signal.aborted
        ? `daemon stopping; last error: ${lastError || 'none'}`
        : `gave up after ${this.#retry.attempts} attempts: ${lastError}`;
    this.#settle(record, 'failed', why);
    this.#o.onOutcome?.(kind, channel, 'failed');
    this.#o.logger.error(`alert not delivered (${why}): ${subject}`);
  }

  #settle(record: DeliveryRecord, status: 'sent' | 'failed', detail: string | null): void {
    if (typeof record === 'number') this.#o.store.updateAlert(record, status, detail);
    else record(status, detail);
  }
}

function channelLabel(channel: AlertChannel): string {
  return `${channel.type}:${channel.name}`;
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
