/**
 * Subjects and bodies of alert mails. A mail must let the on-call engineer act without opening
 * anything else first: what failed, how often, since when, and the exact commands to look further.
 * Every text that may come from a driver passes through `redact`.
 */
import { formatBytes } from '../../shared/format-bytes.js';
import type { CheckResult } from '../../shared/protocol.js';
import { redact } from '../logging/redact.js';
import { checkTally } from '../../shared/check-words.js';
import { checkLines } from './check-lines.js';

export interface FailureAlert {
  readonly pipeline: string;
  readonly runId: string;
  readonly attempts: number;
  readonly error: { readonly code: string; readonly message: string };
  /** ISO time of the last successful run, null if it never succeeded. */
  readonly lastSuccessAt: string | null;
  readonly rows: number;
  /**
   * When the pipeline's current failure streak began: the first failure since its last success,
   * across runs (the journalctl window starts there).
   */
  readonly firstFailureAt?: string | null;
  /** What runs the pipeline again by itself (absent: its schedule, time unknown). */
  readonly nextRun?: NextRun;
  /**
   * False for a pipeline without a schedule (`nextRun` kind `manual`). Kept beside `nextRun`
   * because webhook bodies (version 1) carry it as `details.scheduled`.
   */
  readonly scheduled?: boolean;
  /** The data quality checks that stopped the run (status `fail`, from its row); empty otherwise. */
  readonly failedChecks?: readonly CheckResult[];
}

/**
 * What starts a failed pipeline again: its schedule at a time; nothing, because it has no schedule
 * (`manual`), is paused, or its one-shot `at` time has passed (`ended`).
 */
export type NextRun =
  | { readonly kind: 'schedule'; readonly at: string }
  | { readonly kind: 'manual' }
  | { readonly kind: 'paused' }
  | { readonly kind: 'ended'; readonly schedule: string };

export interface RecoveryAlert {
  readonly pipeline: string;
  readonly runId: string;
  readonly rows: number;
  /** When the failure that this run ends happened, if known. */
  readonly previousFailureAt?: string | null;
  readonly attempts?: number;
}

export interface StallAlert {
  readonly pipeline: string;
  readonly runId: string;
  readonly stalledForMs: number;
  readonly rows?: number;
  readonly lastProgressAt?: string | null;
}

export interface LowDiskAlert {
  readonly path: string;
  readonly label?: string;
  readonly freeBytes: number;
  readonly totalBytes?: number;
  /** Free space in percent of the file system. */
  readonly percent: number;
}

/** The pipeline's last successful run is older than its freshness threshold. */
export interface StaleAlert {
  readonly pipeline: string;
  readonly thresholdMs: number;
  /** ISO end of the last successful run; null if it never succeeded. */
  readonly lastSuccessAt: string | null;
  /** When it became stale. */
  readonly staleSince: string;
  /** The newest run, whatever its status, to say why nothing fresh arrived. */
  readonly lastRun: {
    readonly id: string;
    readonly status: string;
    readonly at: string | null;
    readonly errorCode: string | null;
  } | null;
  readonly nextRunAt: string | null;
}

/** A run committed, but some of its data quality checks warned or quarantined rows. */
export interface ChecksAlert {
  readonly pipeline: string;
  readonly runId: string;
  readonly attempts?: number;
  /** Rows committed to the destination (quarantined rows are not among them). */
  readonly rows: number;
  /** Every check the run judged, in the pipeline file's order, passing ones included. */
  readonly checks: readonly CheckResult[];
}

/** A destination table's upkeep after commits (a Delta checkpoint) failed several times in a row. */
export interface MaintenanceAlert {
  readonly pipeline: string;
  readonly runId: string;
  readonly table: string;
  /** What failed, e.g. `checkpoint`. */
  readonly task: string;
  readonly consecutiveFailures: number;
  /** The last failure's message. */
  readonly message: string;
}

/** A stale pipeline got a successful run again. */
export interface FreshAlert {
  readonly pipeline: string;
  readonly thresholdMs: number;
  readonly lastSuccessAt: string;
  readonly staleSince: string;
  readonly runId: string | null;
}

export interface MailText {
  readonly subject: string;
  readonly text: string;
}

export interface MessageContext {
  readonly host: string;
  readonly now: Date;
  /** systemd unit name for the journalctl command. */
  readonly unit: string;
  /** Alerts of the same kind suppressed by the throttle since the last mail. */
  readonly suppressed: number;
  readonly suppressedSince: string | null;
  readonly throttleMs: number;
}

function formatDuration(ms: number): string {
  const s = Math.round(ms / 1000);
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return s % 60 === 0 ? `${m}m` : `${m}m${s % 60}s`;
  const h = Math.floor(m / 60);
  return m % 60 === 0 ? `${h}h` : `${h}h${m % 60}m`;
}

/** `journalctl --since` accepts "YYYY-MM-DD HH:MM:SS UTC" (systemd.time(7)). */
function journalSince(iso: string): string {
  return `${iso.slice(0, 19).replace('T', ' ')} UTC`;
}

/** Aligned `Field: value` lines; shared with the mails built in their own modules. */
export function table(rows: readonly (readonly [string, string])[]): string {
  const width = Math.max(...rows.map(([k]) => k.length)) + 2;
  return rows.map(([k, v]) => `${`${k}:`.padEnd(width)}${v}`).join('\n');
}

/** The count of alerts of this kind the throttle held back since the last mail, if any. */
export function suppressedNote(ctx: MessageContext, what: string): string[] {
  if (ctx.suppressed === 0) return [];
  const since = ctx.suppressedSince ? ` since ${ctx.suppressedSince}` : '';
  return [
    '',
    `${ctx.suppressed} more ${what} ${ctx.suppressed === 1 ? 'was' : 'were'} suppressed${since} (one mail per ${formatDuration(ctx.throttleMs)}).`,
  ];
}

function commands(pipeline: string, runId: string, sinceIso: string, unit: string): string[] {
  return [
    '',
    'To look further:',
    `  etlctl status ${pipeline}`,
    `  etlctl logs ${pipeline} --run ${runId}`,
    `  etlctl history ${pipeline}`,
    `  journalctl -u ${unit} -p err --since "${journalSince(sinceIso)}"`,
  ];
}

/** The host and time a mail was written on. */
export function footer(ctx: MessageContext): string[] {
  return ['', `-- etld on ${ctx.host}, ${ctx.now.toISOString()}`];
}

/** The failure mail's first sentence (after "FAILED after N attempts; ") and its "Next run" field. */
function nextRunText(pipeline: string, next: NextRun | undefined): { sentence: string; field: string } {
  const again = `start it again with etlctl start ${pipeline}.`;
  switch (next?.kind) {
    case undefined:
      return { sentence: 'it waits for its next schedule.', field: 'by its schedule' };
    case 'schedule':
      return { sentence: `it runs again by its schedule at ${next.at}.`, field: next.at };
    case 'manual':
      return { sentence: `it has no schedule (manual only): ${again}`, field: 'manual only' };
    case 'paused':
      return {
        sentence: `it is paused, so its schedule does not run it: etlctl resume ${pipeline} lets it run again.`,
        field: 'none while paused',
      };
    case 'ended':
      return {
        sentence: `its one-shot schedule "${next.schedule}" has passed, so nothing runs it again: ${again}`,
        field: `none (one-shot schedule "${next.schedule}" has passed)`,
      };
  }
}

export function failureMail(alert: FailureAlert, ctx: MessageContext): MailText {
  const attempts = `${alert.attempts} attempt${alert.attempts === 1 ? '' : 's'}`;
  const message = redact(alert.error.message);
  const since = alert.firstFailureAt ?? new Date(ctx.now.getTime() - 3_600_000).toISOString();
  const next = nextRunText(alert.pipeline, alert.nextRun);
  const lines = [
    `Pipeline ${alert.pipeline} FAILED after ${attempts}; ${next.sentence}`,
    '',
    table([
      ['Pipeline', alert.pipeline],
      ['Run', alert.runId],
      ['Attempts', String(alert.attempts)],
      ['Error', alert.error.code],
      ['Message', message],
      ['Rows', String(alert.rows)],
      ['First failure', alert.firstFailureAt ?? 'unknown'],
      ['Last success', alert.lastSuccessAt ?? 'never'],
      ['Next run', next.field],
      ['Host', ctx.host],
    ]),
    ...(alert.failedChecks !== undefined && alert.failedChecks.length > 0
      ? ['', 'Failed data quality checks (nothing was committed):', ...checkLines(alert.failedChecks)]
      : []),
    ...suppressedNote(ctx, 'failure alerts'),
    ...commands(alert.pipeline, alert.runId, since, ctx.unit),
    ...footer(ctx),
  ];
  return {
    subject: `[etld] ${alert.pipeline} FAILED after ${attempts}: ${alert.error.code}`,
    text: lines.join('\n'),
  };
}

export function recoveryMail(
  alert: RecoveryAlert,
  ctx: MessageContext,
  suppressedFailures: number,
): MailText {
  const lines = [
    `Pipeline ${alert.pipeline} RECOVERED: run ${alert.runId} succeeded.`,
    '',
    table([
      ['Pipeline', alert.pipeline],
      ['Run', alert.runId],
      ...(alert.attempts !== undefined ? [['Attempts', String(alert.attempts)] as const] : []),
      ['Rows', String(alert.rows)],
      ['Previous failure', alert.previousFailureAt ?? 'unknown'],
      ['Host', ctx.host],
    ]),
    ...(suppressedFailures > 0
      ? [
          '',
          `${suppressedFailures} failure alert${suppressedFailures === 1 ? ' was' : 's were'} suppressed during the failure.`,
        ]
      : []),
    ...suppressedNote(ctx, 'recovery alerts'),
    ...commands(
      alert.pipeline,
      alert.runId,
      alert.previousFailureAt ?? new Date(ctx.now.getTime() - 3_600_000).toISOString(),
      ctx.unit,
    ),
    ...footer(ctx),
  ];
  return { subject: `[etld] ${alert.pipeline} RECOVERED (run ${alert.runId})`, text: lines.join('\n') };
}

export function checksMail(alert: ChecksAlert, ctx: MessageContext): MailText {
  const notPassing = alert.checks.filter((c) => c.status !== 'pass');
  const tally = checkTally(notPassing);
  const lines = [
    `Pipeline ${alert.pipeline} committed run ${alert.runId}, but ${notPassing.length} of its ${alert.checks.length} data quality checks did not pass (${tally}).`,
    ...(notPassing.some((c) => c.status === 'quarantine')
      ? ["Rows failing a quarantine check went to the pipeline's quarantine table, not to its destination."]
      : []),
    '',
    table([
      ['Pipeline', alert.pipeline],
      ['Run', alert.runId],
      ...(alert.attempts !== undefined ? [['Attempts', String(alert.attempts)] as const] : []),
      ['Rows loaded', String(alert.rows)],
      ['Checks', checkTally(alert.checks)],
      ['Host', ctx.host],
    ]),
    '',
    'Checks that did not pass:',
    ...checkLines(notPassing),
    ...suppressedNote(ctx, 'check alerts'),
    '',
    'To look further:',
    `  etlctl run ${alert.runId}`,
    `  etlctl history ${alert.pipeline}`,
    `  journalctl -u ${ctx.unit} RUN_ID=${alert.runId}`,
    ...footer(ctx),
  ];
  return {
    subject: `[etld] ${alert.pipeline} CHECKS: ${tally} (run ${alert.runId})`,
    text: lines.join('\n'),
  };
}

export function maintenanceMail(alert: MaintenanceAlert, ctx: MessageContext): MailText {
  const lines = [
    `Pipeline ${alert.pipeline} committed run ${alert.runId}, but the ${alert.task} of its destination table failed for the ${ordinal(alert.consecutiveFailures)} time in a row.`,
    alert.task === 'checkpoint'
      ? 'The data is committed. Without checkpoints every reader replays the whole Delta log, and the log is never cleaned up, so it grows with every run.'
      : 'The data is committed; the table needs attention.',
    '',
    table([
      ['Pipeline', alert.pipeline],
      ['Run', alert.runId],
      ['Table', alert.table],
      ['Failed', `${alert.task}, ${alert.consecutiveFailures} times in a row`],
      ['Host', ctx.host],
    ]),
    '',
    'Last error:',
    `  ${redact(alert.message)}`,
    ...suppressedNote(ctx, 'maintenance alerts'),
    '',
    'To look further:',
    `  etlctl run ${alert.runId}`,
    `  journalctl -u ${ctx.unit} RUN_ID=${alert.runId}`,
    ...footer(ctx),
  ];
  return {
    subject: `[etld] ${alert.pipeline} ${alert.task.toUpperCase()} FAILING: ${alert.consecutiveFailures} in a row (run ${alert.runId})`,
    text: lines.join('\n'),
  };
}

function ordinal(n: number): string {
  const tens = n % 100;
  const suffix = tens >= 11 && tens <= 13 ? 'th' : (['th', 'st', 'nd', 'rd'][n % 10] ?? 'th');
  return `${n}${suffix}`;
}

export function stallMail(alert: StallAlert, ctx: MessageContext): MailText {
  const stalled = formatDuration(alert.stalledForMs);
  const lines = [
    `Pipeline ${alert.pipeline} STALLED: run ${alert.runId} made no progress for ${stalled}; the watchdog cancels and retries it.`,
    '',
    table([
      ['Pipeline', alert.pipeline],
      ['Run', alert.runId],
      ['Rows so far', alert.rows === undefined ? 'unknown' : String(alert.rows)],
      ['Last progress', alert.lastProgressAt ?? 'none'],
      ['Host', ctx.host],
    ]),
    ...suppressedNote(ctx, 'stall alerts'),
    ...commands(
      alert.pipeline,
      alert.runId,
      alert.lastProgressAt ?? new Date(ctx.now.getTime() - alert.stalledForMs).toISOString(),
      ctx.unit,
    ),
    ...footer(ctx),
  ];
  return { subject: `[etld] ${alert.pipeline} STALLED: no progress for ${stalled}`, text: lines.join('\n') };
}

export function lowDiskMail(alert: LowDiskAlert, ctx: MessageContext): MailText {
  const name = alert.label ? `${alert.label} (${alert.path})` : alert.path;
  const free = `${alert.percent.toFixed(1)}% free`;
  const lines = [
    `Low disk space on ${ctx.host}: ${name} has ${formatBytes(alert.freeBytes)} ${free}.`,
    'Runs fail with DESTINATION_WRITE or STATE_STORE errors when it fills up; log files degrade to the journal.',
    '',
    table([
      ['Path', alert.path],
      ['Free', `${formatBytes(alert.freeBytes)} (${free})`],
      ['Total', alert.totalBytes === undefined ? 'unknown' : formatBytes(alert.totalBytes)],
      ['Host', ctx.host],
    ]),
    ...suppressedNote(ctx, 'low-disk alerts'),
    '',
    'To look further:',
    '  etlctl info',
    `  df -h ${alert.path}`,
    `  du -sh ${alert.path}/* | sort -h | tail`,
    ...footer(ctx),
  ];
  return {
    subject: `[etld] low disk on ${ctx.host}: ${alert.label ?? alert.path} ${free}`,
    text: lines.join('\n'),
  };
}

export function staleMail(alert: StaleAlert, ctx: MessageContext): MailText {
  const threshold = formatDuration(alert.thresholdMs);
  const age =
    alert.lastSuccessAt === null
      ? 'it has never succeeded'
      : `its last successful run finished ${formatDuration(ctx.now.getTime() - Date.parse(alert.lastSuccessAt))} ago`;
  const last = alert.lastRun;
  const lines = [
    `Pipeline ${alert.pipeline} is STALE: ${age}, longer than its freshness of ${threshold}.`,
    '',
    table([
      ['Pipeline', alert.pipeline],
      ['Freshness', threshold],
      ['Last success', alert.lastSuccessAt ?? 'never'],
      ['Stale since', alert.staleSince],
      [
        'Last run',
        last === null
          ? 'none'
          : `${last.id} ${last.status}${last.errorCode === null ? '' : ` (${last.errorCode})`}${last.at === null ? '' : ` at ${last.at}`}`,
      ],
      ['Next run', alert.nextRunAt ?? 'none scheduled'],
      ['Host', ctx.host],
    ]),
    ...suppressedNote(ctx, 'stale alerts'),
    '',
    'To look further:',
    `  etlctl why ${alert.pipeline}`,
    `  etlctl history ${alert.pipeline}`,
    `  journalctl -u ${ctx.unit} PIPELINE=${alert.pipeline} --since "${journalSince(alert.staleSince)}"`,
    ...footer(ctx),
  ];
  return {
    subject: `[etld] ${alert.pipeline} STALE: no successful run for more than ${threshold}`,
    text: lines.join('\n'),
  };
}

export function freshMail(alert: FreshAlert, ctx: MessageContext): MailText {
  const lines = [
    `Pipeline ${alert.pipeline} is FRESH again: ${alert.runId === null ? 'a run' : `run ${alert.runId}`} succeeded at ${alert.lastSuccessAt}.`,
    '',
    table([
      ['Pipeline', alert.pipeline],
      ['Freshness', formatDuration(alert.thresholdMs)],
      ['Last success', alert.lastSuccessAt],
      ['Was stale since', alert.staleSince],
      ['Host', ctx.host],
    ]),
    ...suppressedNote(ctx, 'fresh alerts'),
    ...footer(ctx),
  ];
  return {
    subject: `[etld] ${alert.pipeline} FRESH again (stale since ${alert.staleSince})`,
    text: lines.join('\n'),
  };
}
