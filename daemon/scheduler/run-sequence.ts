/**
 * One run of a pipeline from its first attempt to its final status: attempts, the retry policy
 * between them, the stall watchdog, stop and shutdown. A run keeps its sequence across retries and
 * each attempt is its own row `<pipeline>-<sequence>-<attempt>`:
 *   running → succeeded | failed | cancelled | interrupted
 *   running → retrying (waiting for the next attempt) → failed once the next attempt starts.
 * Every transition is written to the state store first and then emitted as `run.state`.
 */
import type { EventData, EventName } from '../../shared/protocol.js';
import type { RunKindSpec, RunStatus, RunTrigger } from '../../shared/types.js';
import { EtlError, toEtlError } from '../../shared/errors.js';
import { formatDuration } from '../../shared/config/duration.js';
import type { LoadedPipeline } from '../../shared/config/pipeline-files.js';
import type { ProgressSnapshot, RunEngine, RunOutcome } from '../engine/engine.js';
import type { EventBus } from '../events/event-bus.js';
import type { Logger } from '../logging/logger.js';
import type { RunPatch, RunRow, StateStore } from '../state/store.js';
import { callAlert, type AlertHooks } from './alert-hooks.js';
import type { Clock, TimerHandle } from './clock.js';
import { failureStreakStart, nextRunAfter } from './failure-streak.js';
import type { NextRun } from '../alerts/alert-messages.js';
import { parseSchedule } from '../../shared/config/schedule.js';
import { decideRetry } from './retry-policy.js';
import { runIdOf } from '../../shared/run-ids.js';
import { StallWatchdog } from './stall-watchdog.js';
import { withoutRowData } from '../logging/row-data.js';

/**
 * Failed upkeep of a destination table (a Delta checkpoint) is alerted once it failed this many
 * times in a row: one failure is an error of its run and usually passes (the next due checkpoint
 * tries again); three mean the table's log grows without bound until someone looks.
 */
const MAINTENANCE_ALERT_AFTER = 3;

export interface SequenceDeps {
  readonly store: StateStore;
  readonly engine: RunEngine;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly events: EventBus;
  readonly alerts: AlertHooks;
  readonly stallTimeoutMs: number;
  /** The pipeline's timezone (its own, else the daemon's default): its schedule's fire times. */
  readonly zone: string;
  /** Called after every transition (the pipeline's summary changed). */
  readonly onChange: () => void;
  /** False once the daemon drains: a failed attempt then leaves its retry to the next start-up. */
  readonly acceptingRuns: () => boolean;
  /**
   * Asked before each retry attempt starts: false when this host may no longer run the pipeline
   * (its fleet run lease went to another host, or the state store is unreachable); the run then
   * stays `retrying` for whoever holds the lease (docs/fleet.md). A host alone always may.
   */
  readonly mayContinue: () => boolean;
}

/** What a new run loads, and who asked for it (null: the schedule). */
export interface RunOrder {
  readonly run: RunKindSpec;
  readonly requestedBy: string | null;
}

/**
 * A new run, or the continuation at start-up of a row left `interrupted` or `retrying` (its kind
 * and requester are the row's).
 */
export type SequenceStart =
  | { readonly kind: 'new'; readonly trigger: RunTrigger; readonly order: RunOrder }
  | { readonly kind: 'resume'; readonly row: RunRow };

/** The kind a stored attempt row says its run has, and who asked for it. */
function orderOf(row: RunRow): RunOrder {
  const requestedBy = row.requestedBy;
  switch (row.kind) {
    case 'normal':
    case 'full_refresh':
      return { run: { kind: row.kind }, requestedBy };
    case 'backfill':
      if (row.backfill === null)
        throw new EtlError('STATE_STORE', `run ${row.id} is a backfill without its range in the state store`);
      return { run: { kind: 'backfill', range: row.backfill }, requestedBy };
  }
}

export type SequenceOutcome = 'succeeded' | 'failed' | 'cancelled' | 'interrupted' | 'abandoned';

export type StopReason = 'manual' | 'drain';

/** The error as the run records it: row contents never reach the store, events, logs or mails. */
function withoutRowDataError(error: EtlError): EtlError {
  const message = withoutRowData(error.message);
  return message === error.message
    ? error
    : new EtlError(error.code, message, { retryable: error.retryable });
}

export class RunSequence {
  readonly pipeline: LoadedPipeline;
  readonly done: Promise<SequenceOutcome>;
  readonly #deps: SequenceDeps;
  readonly #log: Logger;
  readonly #start: SequenceStart;
  #started = false;
  #sequence = 0;
  #resolve!: (outcome: SequenceOutcome) => void;
  #attempt = 0;
  #runId = '';
  #phase: 'running' | 'retrying' | 'done' = 'running';
  #retryAt: Date | null = null;
  #retryTimer: TimerHandle | null = null;
  #controller: AbortController | null = null;
  #watchdog: StallWatchdog | null = null;
  #progress: ProgressSnapshot | null = null;
  #firstFailureAt: Date | null = null;
  #lastError: { code: string; message: string } | null = null;
  #stopReason: StopReason | null = null;
  #stalledForMs: number | null = null;
  /** Every attempt loads the same kind of run (set by `start()`). */
  #order: RunOrder = { run: { kind: 'normal' }, requestedBy: null };

  /** Builds the run without touching the store, a timer or the engine: `start()` begins it. */
  constructor(deps: SequenceDeps, pipeline: LoadedPipeline, start: SequenceStart) {
    this.#deps = deps;
    this.pipeline = pipeline;
    this.#log = deps.logger.child({ pipeline: pipeline.name });
    this.#start = start;
    this.done = new Promise((resolve) => (this.#resolve = resolve));
  }

  /**
   * Begins the run, once: a new run takes the pipeline's next sequence and starts its first
   * attempt; a resumed one continues what a previous daemon left (`phase` may be `done` after).
   */
  start(): this {
    if (this.#started) throw new EtlError('INTERNAL', `run sequence of ${this.pipeline.name} started twice`);
    this.#started = true;
    const start = this.#start;
    if (start.kind === 'new') {
      this.#order = start.order;
      this.#sequence = this.#deps.store.nextSequence(this.pipeline.name);
      this.#startAttempt(1, start.trigger);
    } else {
      this.#order = orderOf(start.row);
      this.#sequence = start.row.sequence;
      this.#resume(start.row);
    }
    return this;
  }

  /** The run's sequence (0 before `start()`). */
  get sequence(): number {
    return this.#sequence;
  }

  /** The current attempt's id (`<pipeline>-<sequence>-<attempt>`), as log lines carry it. */
  get runId(): string {
    return this.#runId;
  }
  /** The run's id across its attempts (`<pipeline>-<sequence>`). */
  get logicalRunId(): string {
    return runIdOf(this.pipeline.name, this.sequence);
  }
  get attempt(): number {
    return this.#attempt;
  }
  get phase(): 'running' | 'retrying' | 'done' {
    return this.#phase;
  }
  get retryAt(): Date | null {
    return this.#retryAt;
  }
  get progress(): ProgressSnapshot | null {
    return this.#progress;
  }
  get lastError(): { code: string; message: string } | null {
    return this.#lastError;
  }

  /**
   * Manual stop: aborts the attempt (status `cancelled`, no retry) or cancels a pending retry.
   * Drain: aborts the attempt after the grace period (status `interrupted`: start-up retries it).
   */
  stop(reason: StopReason): boolean {
    if (this.#phase === 'done') return false;
    if (this.#phase === 'retrying') {
      if (reason === 'drain') {
        this.abandon();
        return true;
      }
      this.#clearRetry();
      this.#finish(
        this.#runId,
        'cancelled',
        { errorCode: 'CANCELLED', errorMessage: 'stopped by an operator while waiting for a retry' },
        'cancelled',
      );
      this.#log.notice(`run ${this.#runId} stopped while waiting for a retry`, { runId: this.#runId });
      return true;
    }
    this.#stopReason = reason;
    const message =
      reason === 'manual' ? 'stopped by an operator' : 'cancelled by daemon shutdown after the grace period';
    this.#controller?.abort(new EtlError('CANCELLED', `run ${this.#runId} ${message}`));
    return true;
  }

  /** Shutdown while waiting for a retry: leave the row `retrying` so the next start-up continues it. */
  abandon(): void {
    if (this.#phase !== 'retrying') return;
    this.#clearRetry();
    this.#phase = 'done';
    this.#log.info(`daemon shutting down: retry of run ${this.#runId} continues after the next start-up`, {
      runId: this.#runId,
    });
    this.#resolve('abandoned');
  }

  #startAttempt(attempt: number, trigger: RunTrigger): void {
    const { store, clock, engine, stallTimeoutMs } = this.#deps;
    const name = this.pipeline.name;
    this.#attempt = attempt;
    this.#phase = 'running';
    this.#retryAt = null;
    this.#progress = null;
    this.#stalledForMs = null;
    const inserted = store.insertRun({
      pipeline: name,
      sequence: this.sequence,
      attempt,
      trigger,
      kind: this.#order.run,
      requestedBy: this.#order.requestedBy,
      status: 'running',
      firstFailureAt: this.#firstFailureAt?.toISOString() ?? null,
    });
    this.#runId = inserted.id;
    const runId = inserted.id;
    this.#transition(runId, { startedAt: clock.now().toISOString() });
    const kind = this.#order.run.kind === 'normal' ? '' : `, ${this.#order.run.kind.replace('_', ' ')}`;
    this.#log.info(`run ${runId} started (attempt ${attempt}, ${trigger}${kind})`, { runId });

    const controller = new AbortController();
    this.#controller = controller;
    const watchdog = new StallWatchdog(clock, stallTimeoutMs, (stalledForMs) =>
      this.#onStall(runId, controller, stalledForMs),
    );
    this.#watchdog = watchdog;
    watchdog.start();

    let execution: Promise<RunOutcome>;
    try {
      execution = engine.execute({
        pipeline: this.pipeline,
        runId,
        sequence: this.sequence,
        attempt,
        trigger,
        kind: this.#order.run,
        signal: controller.signal,
        logger: this.#log.child({ runId }),
        onProgress: (progress) => this.#onProgress(runId, progress),
      });
    } catch (error) {
      execution = Promise.reject(toEtlError(error));
    }
    execution.then(
      (outcome) =>
        this.#guard(runId, () => {
          if (!this.#takenOver(runId, 'succeeded')) this.#succeeded(runId, outcome);
        }),
      (error: unknown) =>
        this.#guard(runId, () => {
          if (!this.#takenOver(runId, 'failed')) this.#failed(runId, error);
        }),
    );
  }

  /**
   * Whether another host of the fleet took this attempt's run over while this host was silent (a
   * paused VM, a host starved for a lease time): it marked the attempt `interrupted` and continues
   * the run under a later attempt. That record stands: this attempt's end is not written over it,
   * alerts nothing and schedules no retry (its commit, if any, found the sequence committed).
   */
  #takenOver(runId: string, ending: string): boolean {
    if (this.#deps.store.getRun(runId)?.status !== 'interrupted') return false;
    this.#endAttempt();
    this.#phase = 'done';
    this.#retryAt = null;
    this.#log.warning(
      `run ${runId} ${ending} here, but another host took the run over while this host was silent; the run continues there and this attempt's end is not recorded`,
      { runId },
    );
    this.#resolve('abandoned');
    return true;
  }

  /** A state-store failure while settling must still settle the run, never reject into the void. */
  #guard(runId: string, settle: () => void): void {
    try {
      settle();
    } catch (error) {
      this.#log.error(`run ${runId}: could not record its outcome: ${toEtlError(error).message}`, { runId });
      this.#phase = 'done';
      this.#resolve('failed');
    }
  }

  #onProgress(runId: string, progress: ProgressSnapshot): void {
    if (runId !== this.#runId || this.#phase !== 'running') return;
    this.#progress = progress;
    this.#watchdog?.observe(progress);
    this.#emit('run.progress', {
      run_id: this.logicalRunId,
      attempt_id: runId,
      pipeline: this.pipeline.name,
      rows: progress.rows,
      bytes: progress.bytes,
      rows_per_s: progress.rowsPerSecond,
      phase: progress.phase,
      parts: [...progress.parts],
    });
  }

  #onStall(runId: string, controller: AbortController, stalledForMs: number): void {
    this.#stalledForMs = stalledForMs;
    const message = `no progress for ${formatDuration(stalledForMs)} (stall_timeout ${formatDuration(this.#deps.stallTimeoutMs)}): cancelling the attempt, it is retried under error_handling`;
    this.#log.warning(`run ${runId} stalled: ${message}`, { runId });
    callAlert(this.#log, 'notifyStall', () =>
      this.#deps.alerts.notifyStall({ pipeline: this.pipeline.name, runId: this.logicalRunId, stalledForMs }),
    );
    controller.abort(new EtlError('STALLED', `run ${runId} stalled: ${message}`));
  }

  #endAttempt(): void {
    this.#watchdog?.stop();
    this.#watchdog = null;
    this.#controller = null;
  }

  #succeeded(runId: string, outcome: RunOutcome): void {
    this.#endAttempt();
    const previousFailure = this.#previousFailure();
    this.#finish(
      runId,
      'succeeded',
      {
        rowsExtracted: outcome.rowsExtracted,
        rowsLoaded: outcome.rowsLoaded,
        rowsExcluded: outcome.rowsExcluded,
        notes: outcome.notes,
        stages: outcome.stages,
        bytes: outcome.bytes,
        verdict: outcome.verdict,
      },
      'succeeded',
    );
    const note = outcome.alreadyCommitted ? ' (the destination had already committed this sequence)' : '';
    this.#log.notice(
      `run ${runId} succeeded: ${outcome.rowsExtracted} rows extracted, ${outcome.rowsLoaded} loaded${note}`,
      { runId },
    );
    if (previousFailure !== null) {
      callAlert(this.#log, 'notifyRecovery', () =>
        this.#deps.alerts.notifyRecovery({
          pipeline: this.pipeline.name,
          runId: this.logicalRunId,
          attempts: this.#attempt,
          previousFailureAt: previousFailure.finishedAt,
          rows: outcome.rowsLoaded,
        }),
      );
    }
    const upkeep = outcome.maintenanceFailure;
    if (upkeep !== undefined && upkeep.consecutiveFailures >= MAINTENANCE_ALERT_AFTER) {
      callAlert(this.#log, 'notifyMaintenance', () =>
        this.#deps.alerts.notifyMaintenance({
          pipeline: this.pipeline.name,
          runId: this.logicalRunId,
          table: upkeep.table,
          task: upkeep.task,
          consecutiveFailures: upkeep.consecutiveFailures,
          message: upkeep.message,
        }),
      );
    }
    const quarantined = outcome.quarantinedFiles ?? [];
    if (quarantined.length > 0) {
      callAlert(this.#log, 'notifyFilesQuarantined', () =>
        this.#deps.alerts.notifyFilesQuarantined({
          pipeline: this.pipeline.name,
          runId: this.logicalRunId,
          rows: outcome.rowsLoaded,
          files: quarantined,
        }),
      );
    }
    if (outcome.checks.length > 0) {
      // The service decides: only checks that warned or quarantined rows are alerted.
      callAlert(this.#log, 'notifyChecks', () =>
        this.#deps.alerts.notifyChecks({
          pipeline: this.pipeline.name,
          runId: this.logicalRunId,
          attempts: this.#attempt,
          rows: outcome.rowsLoaded,
          checks: outcome.checks,
        }),
      );
    }
  }

  #failed(runId: string, thrown: unknown): void {
    this.#endAttempt();
    const { clock } = this.#deps;
    const rows = { rowsExtracted: this.#progress?.rows ?? 0, bytes: this.#progress?.bytes ?? 0 };
    if (this.#stopReason === 'manual') {
      this.#finish(
        runId,
        'cancelled',
        { ...rows, errorCode: 'CANCELLED', errorMessage: 'stopped by an operator' },
        'cancelled',
      );
      this.#log.notice(`run ${runId} stopped by an operator`, { runId });
      return;
    }
    if (this.#stopReason === 'drain') {
      const errorMessage =
        'cancelled by daemon shutdown after the grace period; retried after the next start-up';
      this.#finish(
        runId,
        'interrupted',
        {
          ...rows,
          errorCode: 'INTERRUPTED',
          errorMessage,
          firstFailureAt: (this.#firstFailureAt ?? clock.now()).toISOString(),
        },
        'interrupted',
      );
      this.#log.warning(`run ${runId} ${errorMessage}`, { runId });
      return;
    }
    const error =
      this.#stalledForMs !== null
        ? new EtlError(
            'STALLED',
            `no progress for ${formatDuration(this.#stalledForMs)} (stall_timeout ${formatDuration(this.#deps.stallTimeoutMs)})`,
          )
        : withoutRowDataError(toEtlError(thrown));
    this.#afterFailure(runId, error, rows);
  }

  #afterFailure(runId: string, error: EtlError, rows: RunPatch): void {
    const now = this.#deps.clock.now();
    const firstFailureAt = this.#firstFailureAt ?? now;
    this.#firstFailureAt = firstFailureAt;
    const decision = decideRetry(this.pipeline.config.error_handling, {
      attempt: this.#attempt,
      retryable: error.retryable,
      firstFailureAt,
      failedAt: now,
    });
    const patch: RunPatch = {
      ...rows,
      errorCode: error.code,
      errorMessage: error.message,
      firstFailureAt: firstFailureAt.toISOString(),
    };
    if (decision.retry) {
      this.#transition(runId, { ...patch, status: 'retrying', finishedAt: now.toISOString() });
      this.#log.warning(
        `run ${runId} failed (${error.code}: ${error.message}); attempt ${decision.nextAttempt} in ${formatDuration(decision.delayMs)} at ${decision.at.toISOString()}`,
        { runId },
      );
      this.#scheduleRetry(runId, decision.delayMs, decision.at, decision.nextAttempt, 'retry');
      return;
    }
    this.#finish(runId, 'failed', patch, 'failed');
    const why = decision.reason === 'not_retryable' ? 'not retryable, no retry' : decision.explanation;
    this.#log.error(
      `run ${runId} failed after ${this.#attempt} attempt(s) (${why}): ${error.code}: ${error.message}`,
      { runId },
    );
    this.#alertFailure(runId, error.code, error.message);
  }

  #alertFailure(runId: string, code: string, message: string): void {
    const { store, alerts } = this.#deps;
    const lastSuccessAt = store.lastSuccess(this.pipeline.name)?.finishedAt ?? null;
    const rows = this.#progress?.rows ?? 0;
    // The engine records check results in the attempt's row as soon as they are judged.
    const failedChecks = store.getRun(runId)?.checks.filter((c) => c.status === 'fail') ?? [];
    callAlert(this.#log, 'notifyFailure', () =>
      alerts.notifyFailure({
        pipeline: this.pipeline.name,
        runId: this.logicalRunId,
        attempts: this.#attempt,
        error: { code, message },
        lastSuccessAt,
        rows,
        // The streak, not this run: an hourly pipeline failing since the morning says the morning.
        firstFailureAt:
          failureStreakStart(store, this.pipeline.name) ?? this.#firstFailureAt?.toISOString() ?? null,
        ...this.#nextRun(),
        ...(failedChecks.length > 0 ? { failedChecks } : {}),
      }),
    );
  }

  /** What runs the pipeline again after this failure, for the alert (and `scheduled`, its v1 field). */
  #nextRun(): { nextRun?: NextRun; scheduled: boolean } {
    const nextRun = this.#deps.store.getRuntime(this.pipeline.name).paused
      ? ({ kind: 'paused' } as const)
      : nextRunAfter(this.pipeline.config.schedule, this.#deps.zone, this.#deps.clock.now());
    const scheduled = parseSchedule(this.pipeline.config.schedule);
    return {
      ...(nextRun === undefined ? {} : { nextRun }),
      scheduled: !scheduled.ok || scheduled.schedule.kind !== 'manual',
    };
  }

  #scheduleRetry(runId: string, delayMs: number, at: Date, nextAttempt: number, trigger: RunTrigger): void {
    this.#phase = 'retrying';
    this.#retryAt = at;
    this.#deps.onChange();
    if (!this.#deps.acceptingRuns()) {
      this.abandon();
      return;
    }
    this.#retryTimer = this.#deps.clock.setTimer(delayMs, () =>
      this.#guard(runId, () => {
        this.#retryTimer = null;
        if (!this.#deps.mayContinue()) {
          this.#log.warning(
            `run ${runId}: attempt ${nextAttempt} not started here: this host no longer holds the run's lease; the run stays retrying for the host that does`,
            { runId },
          );
          this.#phase = 'done';
          this.#retryAt = null;
          this.#resolve('abandoned');
          return;
        }
        // The failed attempt's row ends `failed`; the run itself goes on (`running` again next),
        // so no run event is sent for that row.
        const previous = this.#deps.store.getRun(runId);
        if (previous?.status === 'retrying') this.#deps.store.updateRun(runId, { status: 'failed' });
        this.#startAttempt(nextAttempt, trigger);
      }),
    );
  }

  #clearRetry(): void {
    if (this.#retryTimer !== null) this.#deps.clock.clearTimer(this.#retryTimer);
    this.#retryTimer = null;
    this.#retryAt = null;
  }

  /** Start-up: continue a run the last daemon left `interrupted` or waiting for a retry. */
  #resume(row: RunRow): void {
    const now = this.#deps.clock.now();
    this.#attempt = row.attempt;
    this.#runId = row.id;
    this.#lastError =
      row.errorCode === null ? null : { code: row.errorCode, message: row.errorMessage ?? '' };
    const failedAt = row.finishedAt === null ? now : new Date(row.finishedAt);
    this.#firstFailureAt = row.firstFailureAt === null ? failedAt : new Date(row.firstFailureAt);
    const decision = decideRetry(this.pipeline.config.error_handling, {
      attempt: row.attempt,
      retryable: true,
      firstFailureAt: this.#firstFailureAt,
      failedAt,
    });
    if (decision.retry) {
      const delayMs = Math.max(0, decision.at.getTime() - now.getTime());
      this.#log.notice(
        `run ${row.id} was ${row.status} when the daemon stopped; attempt ${decision.nextAttempt} in ${formatDuration(delayMs)}`,
        {
          runId: row.id,
        },
      );
      this.#scheduleRetry(
        row.id,
        delayMs,
        new Date(now.getTime() + delayMs),
        decision.nextAttempt,
        'startup-recovery',
      );
      return;
    }
    const code = row.errorCode ?? 'INTERRUPTED';
    const message = `${row.errorMessage ?? 'interrupted'} (${decision.explanation})`;
    this.#finish(row.id, 'failed', { errorCode: code, errorMessage: message }, 'failed');
    this.#log.error(`run ${row.id} failed: ${message}`, { runId: row.id });
    this.#alertFailure(row.id, code, message);
  }

  /** The newest finished run of an earlier sequence, when it failed (a success now is a recovery). */
  #previousFailure(): RunRow | null {
    const earlier = this.#deps.store
      .listRuns(this.pipeline.name, 200)
      .find((r) => r.sequence !== this.sequence && (r.status === 'succeeded' || r.status === 'failed'));
    return earlier?.status === 'failed' ? earlier : null;
  }

  #finish(runId: string, status: RunStatus, patch: RunPatch, outcome: SequenceOutcome): void {
    this.#phase = 'done';
    this.#retryAt = null;
    this.#transition(runId, { ...patch, status, finishedAt: this.#deps.clock.now().toISOString() });
    this.#resolve(outcome);
  }

  #transition(runId: string, patch: RunPatch): void {
    const row = this.#deps.store.updateRun(runId, patch);
    if (row.errorCode !== null) this.#lastError = { code: row.errorCode, message: row.errorMessage ?? '' };
    if (patch.status !== undefined || patch.startedAt !== undefined) {
      this.#emit('run.state', {
        run_id: runIdOf(row.pipeline, row.sequence),
        attempt_id: row.id,
        pipeline: row.pipeline,
        status: row.status,
        attempt: row.attempt,
        at: this.#deps.clock.now().toISOString(),
        rows_loaded: row.rowsLoaded,
        error: row.errorCode === null ? null : { code: row.errorCode, message: row.errorMessage ?? '' },
      });
    }
    this.#deps.onChange();
  }

  #emit<E extends EventName>(event: E, data: EventData<E>): void {
    try {
      this.#deps.events.emit(event, data);
    } catch (error) {
      this.#log.error(`event listener for ${event} failed: ${toEtlError(error).message}`);
    }
  }
}
