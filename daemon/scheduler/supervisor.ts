/**
 * The run supervisor: fires schedules on its Clock, applies overlap and misfire rules,
 * pause/resume (persisted), manual trigger and stop, start-up recovery of interrupted runs, and
 * the graceful drain. Each run is a RunSequence (attempts, retries, stall watchdog).
 *
 * Lifecycle: created → running (`start()`) → draining (`drain()`) → stopped.
 */
import { parseSchedule, type Schedule } from '../../shared/config/schedule.js';
import { EtlError, toEtlError } from '../../shared/errors.js';
import type {
  EventData,
  EventName,
  PipelineFreshness,
  PipelineSummary,
  RunDetail,
} from '../../shared/protocol.js';
import type { RunTrigger } from '../../shared/types.js';
import type { LoadedPipeline } from '../../shared/config/pipeline-files.js';
import type { RunEngine } from '../engine/engine.js';
import type { EventBus } from '../events/event-bus.js';
import type { Logger } from '../logging/logger.js';
import { latestRun, toRunDetail } from './run-records.js';
import type { StateStore } from '../state/store.js';
import type { AlertHooks } from './alert-hooks.js';
import type { Clock, TimerHandle } from './clock.js';
import { drainRuns } from './drain-runs.js';
import { decideFire } from './fire-decision.js';
import { nextFireTime } from './fire-times.js';
import { invalidSummary, pipelineSummary } from './pipeline-summary.js';
import { RunSequence, type RunOrder, type SequenceDeps } from './run-sequence.js';
import type { HostSlotUsage } from './slot-queues.js';
import { markInterrupted, markInterruptedRuns, settleMisfires } from './startup.js';
import type { FleetCoordinator } from '../fleet/coordinator.js';
import { SoloCoordinator } from '../fleet/solo-coordinator.js';
import { runIdOf } from '../../shared/run-ids.js';
import type { RunRow } from '../state/store.js';
import { explain } from './why.js';

export interface SupervisorOptions {
  readonly store: StateStore;
  readonly engine: RunEngine;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly events: EventBus;
  readonly alerts: AlertHooks;
  /** Optional: lets `why` name hosts whose source slots are all taken. */
  readonly governor?: { usage(): HostSlotUsage[] };
  readonly defaults: { readonly stallTimeoutMs: number; readonly timezone: string };
  /** Optional: the pipeline's freshness for summaries and `why` (observability/freshness.ts). */
  readonly freshness?: (pipeline: string) => PipelineFreshness | null;
  /** The fleet this host belongs to (default: a host alone, granted every claim and lease). */
  readonly coordinator?: FleetCoordinator;
}

export interface InvalidPipeline {
  readonly name: string;
  readonly file: string;
  readonly problems: readonly string[];
}

interface Slot {
  pipeline: LoadedPipeline;
  schedule: Schedule;
  zone: string;
  nextFireAt: Date | null;
  timer: TimerHandle | null;
  active: RunSequence | null;
  /** overlap: queue — at most one fire waits behind the active run; later ones are coalesced. */
  queued: boolean;
  /** Its file went away or became invalid: no more fires; forgotten once its run has ended. */
  removed: boolean;
  /** An operator is changing its state (`etlctl watermark`): no run starts until it is released. */
  held: string | null;
}

/** A normal run nobody in particular asked for: a schedule fire, a catch-up, a queued fire, `etld --once`. */
const NORMAL_RUN: RunOrder = { run: { kind: 'normal' }, requestedBy: null };

/** What start-up recovery continues: a run the last daemon left interrupted or waiting to retry. */
const RECOVERABLE: ReadonlySet<string> = new Set(['interrupted', 'retrying']);
/** What a takeover continues: also a run whose host died while it was running. */
const TAKEOVER: ReadonlySet<string> = new Set(['interrupted', 'retrying', 'running', 'queued']);

type SupervisorState = 'created' | 'running' | 'draining' | 'stopped';

export class Supervisor {
  readonly #o: SupervisorOptions;
  readonly #fleet: FleetCoordinator;
  readonly #slots = new Map<string, Slot>();
  #invalid = new Map<string, InvalidPipeline>();
  #state: SupervisorState = 'created';
  /** Pipelines whose fleet run lease this host holds. */
  readonly #leased = new Set<string>();
  #draining: Promise<void> | null = null;

  constructor(options: SupervisorOptions) {
    this.#o = options;
    this.#fleet =
      options.coordinator ??
      new SoloCoordinator({ host: 'localhost', pid: 0, version: '', startedAt: new Date(0).toISOString() });
  }

  get state(): SupervisorState {
    return this.#state;
  }

  /** Initial load and every reload. In-flight runs keep the config they started with. */
  setPipelines(valid: readonly LoadedPipeline[], invalid: readonly InvalidPipeline[]): void {
    const { logger } = this.#o;
    const invalidMap = new Map<string, InvalidPipeline>();
    for (const broken of invalid) invalidMap.set(broken.name, broken);
    const names = new Set<string>();
    for (const pipeline of valid) {
      const parsed = parseSchedule(pipeline.config.schedule);
      if (!parsed.ok) {
        invalidMap.set(pipeline.name, {
          name: pipeline.name,
          file: pipeline.file,
          problems: [`${pipeline.file}: schedule: ${parsed.reason}`],
        });
        continue;
      }
      names.add(pipeline.name);
      const zone = pipeline.config.timezone ?? this.#o.defaults.timezone;
      const existing = this.#slots.get(pipeline.name);
      if (existing) {
        const changed =
          existing.removed ||
          existing.pipeline.file !== pipeline.file ||
          JSON.stringify(existing.pipeline.config) !== JSON.stringify(pipeline.config);
        existing.pipeline = pipeline;
        existing.schedule = parsed.schedule;
        existing.zone = zone;
        existing.removed = false;
        if (changed) this.#arm(existing, this.#o.clock.now());
        continue;
      }
      const slot: Slot = {
        pipeline,
        schedule: parsed.schedule,
        zone,
        nextFireAt: null,
        timer: null,
        active: null,
        queued: false,
        removed: false,
        held: null,
      };
      this.#slots.set(pipeline.name, slot);
      if (this.#state === 'running') {
        // A pipeline that appears while running starts its schedule now: fires before this
        // moment belong to no daemon that knew it, so they are not misfires.
        this.#o.store.markFire(pipeline.name, this.#o.clock.now().toISOString());
        this.#arm(slot, this.#o.clock.now());
      }
    }
    for (const [name, slot] of this.#slots) {
      if (names.has(name)) continue;
      slot.removed = true;
      slot.queued = false;
      this.#disarm(slot);
      if (slot.active === null) this.#slots.delete(name);
      else
        logger.notice(
          `pipeline ${name} was removed or became invalid: its run ${slot.active.runId} finishes, then it stops`,
          { pipeline: name },
        );
    }
    this.#invalid = invalidMap;
    this.#changed();
  }

  /** Start-up: recover interrupted runs, catch up misfires once, arm timers. */
  start(): void {
    if (this.#state !== 'created')
      throw new EtlError('ILLEGAL_STATE', `the supervisor cannot start: it is ${this.#state}`);
    this.#state = 'running';
    const { store, clock, logger } = this.#o;
    const now = clock.now();
    markInterruptedRuns(
      store,
      now,
      logger,
      (data) => this.#emit('run.state', data),
      (row) => this.#adopt(row),
    );
    for (const slot of this.#slots.values()) {
      try {
        this.#recover(slot, RECOVERABLE);
        const action = settleMisfires(store, logger, {
          name: slot.pipeline.name,
          schedule: slot.schedule,
          zone: slot.zone,
          misfire: slot.pipeline.config.misfire,
          now,
          recoveringRunId: slot.active?.runId ?? null,
        });
        // One host of a fleet catches up: the one that claims the last missed fire.
        if (action !== 'none' && this.#fleet.claimFire(slot.pipeline.name, `catchup:${action.catchup}`)) {
          const holder = this.#startLeased(slot, 'catchup', NORMAL_RUN);
          if (typeof holder === 'string')
            logger.info(`no catch-up run: the pipeline is running on host ${holder}`, {
              pipeline: slot.pipeline.name,
            });
        }
      } catch (error) {
        logger.error(`start-up of pipeline ${slot.pipeline.name} failed: ${toEtlError(error).message}`, {
          pipeline: slot.pipeline.name,
        });
      }
      this.#arm(slot, now);
    }
    // Leases taken to mark rows of pipelines that are no longer here, or that ended at once.
    for (const name of this.#leased) if (!this.#slots.get(name)?.active) this.#release(name);
    this.#changed();
  }

  /**
   * The fleet's takeover check (after each heartbeat): a pipeline whose newest run is left
   * unfinished with no live lease lost its host; this host takes the lease and continues the run
   * as start-up recovery would. A host alone has nobody to take over from.
   */
  takeOver(): void {
    if (this.#state !== 'running' || !this.#fleet.shared) return;
    for (const slot of this.#slots.values()) {
      if (slot.active || slot.removed || slot.held !== null) continue;
      try {
        this.#recover(slot, TAKEOVER);
      } catch (error) {
        this.#o.logger.error(
          `takeover check of pipeline ${slot.pipeline.name} failed: ${toEtlError(error).message}`,
          { pipeline: slot.pipeline.name },
        );
      }
    }
  }

  /** Starts a run now: a normal one, a full refresh or a backfill (`order`), asked for by an operator. */
  trigger(name: string, trigger: 'manual', order: RunOrder = NORMAL_RUN): { runId: string } {
    const slot = this.#slot(name);
    if (this.#state !== 'running')
      throw new EtlError('ILLEGAL_STATE', `cannot start ${name}: the supervisor is ${this.#state}`);
    this.#refuseIfBusy(slot, 'stop it first or wait');
    const sequence = this.#startLeased(slot, trigger, order);
    if (typeof sequence === 'string')
      throw new EtlError('ILLEGAL_STATE', `pipeline ${name} is running on host ${sequence}`);
    return { runId: sequence.logicalRunId };
  }

  /**
   * Keeps the pipeline from starting a run (manual starts are refused, schedule fires skipped)
   * while an operator changes its state; refused while a run is active or waiting to retry.
   * Returns the release, which must be called once the change is done.
   */
  hold(name: string, what: string): () => void {
    const slot = this.#slot(name);
    this.#refuseIfBusy(
      slot,
      `stop it (etlctl stop ${name}) or wait for it (etlctl wait ${name}), then change its ${what}`,
    );
    slot.held = what;
    return () => {
      if (slot.held === what) slot.held = null;
    };
  }

  #refuseIfBusy(slot: Slot, advice: string): void {
    const name = slot.pipeline.name;
    if (slot.held !== null)
      throw new EtlError(
        'ILLEGAL_STATE',
        `pipeline ${name}: an operator is changing its ${slot.held}; try again in a moment`,
        {
          retryable: true,
        },
      );
    if (slot.active) {
      const what = slot.active.phase === 'retrying' ? 'is waiting to retry' : 'is already running';
      throw new EtlError(
        'ILLEGAL_STATE',
        `pipeline ${name} ${what} (run ${slot.active.logicalRunId}); ${advice}`,
      );
    }
  }

  /** Cancels the active run (and a queued fire); `requestedBy` names the operator in the log. */
  stop(name: string, requestedBy?: string): { runId: string | null; stopped: boolean } {
    const slot = this.#slot(name);
    slot.queued = false;
    if (!slot.active) return { runId: null, stopped: false };
    const runId = slot.active.logicalRunId;
    this.#o.logger.notice(
      `stop requested for run ${runId}${requestedBy === undefined ? '' : ` by ${requestedBy}`}`,
      { pipeline: name, runId: slot.active.runId },
    );
    return { runId, stopped: slot.active.stop('manual') };
  }

  pause(name: string): { pipeline: string; paused: boolean } {
    this.#known(name);
    this.#o.store.setPaused(name, true);
    const slot = this.#slots.get(name);
    if (slot?.queued) {
      slot.queued = false;
      this.#o.store.markSkip(name, 'paused: the queued run was dropped', this.#o.clock.now().toISOString());
    }
    this.#o.logger.notice(`pipeline ${name} paused`, { pipeline: name });
    this.#changed();
    return { pipeline: name, paused: true };
  }

  resume(name: string): { pipeline: string; paused: boolean } {
    this.#known(name);
    this.#o.store.setPaused(name, false);
    this.#o.logger.notice(`pipeline ${name} resumed`, { pipeline: name });
    this.#changed();
    return { pipeline: name, paused: false };
  }

  why(name: string): { next_run_at: string | null; lines: string[] } {
    const broken = this.#invalid.get(name);
    if (broken && !this.#slots.get(name)) {
      return {
        next_run_at: null,
        lines: [
          `invalid file ${broken.file}: not scheduled until it is fixed and reloaded`,
          ...broken.problems,
        ],
      };
    }
    const slot = this.#slot(name);
    const runtime = this.#o.store.getRuntime(name);
    const active = slot.active;
    const lines = explain({
      schedule: slot.schedule,
      zone: slot.zone,
      overlap: slot.pipeline.config.overlap,
      misfire: slot.pipeline.config.misfire,
      maxRetries: slot.pipeline.config.error_handling.max_retries,
      nextFireAt: slot.nextFireAt,
      draining: this.#state === 'draining' || this.#state === 'stopped',
      active: active
        ? {
            runId: active.runId,
            phase: active.phase,
            attempt: active.attempt,
            retryAt: active.retryAt,
            lastError: active.lastError,
            waitingForSlot: active.progress?.phase === 'waiting',
          }
        : null,
      queued: slot.queued,
      runtime,
      lastRun: this.#o.store.listRuns(name, 1)[0],
      freshness: this.#o.freshness?.(name) ?? null,
      now: this.#o.clock.now(),
    });
    const busy = this.#o.governor?.usage().filter((u) => u.waiting > 0) ?? [];
    if (active?.progress?.phase === 'waiting' && busy.length > 0) {
      lines.push(
        `source hosts at their slot limit: ${busy.map((u) => `${u.host} (${u.inUse} in use, ${u.waiting} waiting)`).join(', ')}`,
      );
    }
    return { next_run_at: this.#nextRunAt(slot, runtime.paused), lines };
  }

  summaries(): PipelineSummary[] {
    const out: PipelineSummary[] = [];
    for (const slot of this.#slots.values()) if (!slot.removed) out.push(this.#summary(slot));
    for (const broken of this.#invalid.values()) {
      if (this.#slots.get(broken.name)?.removed === false) continue;
      const { store, defaults } = this.#o;
      out.push(
        invalidSummary(
          broken,
          store.getRuntime(broken.name).paused,
          latestRun(store, broken.name),
          defaults.timezone,
        ),
      );
    }
    return out.sort((a, b) => a.name.localeCompare(b.name));
  }

  /** Resolves when the pipeline's active run on this host ends, however it ends (null: none is active). */
  activeRunEnded(name: string): Promise<void> | null {
    const active = this.#slots.get(name)?.active;
    return active ? active.done.then(() => undefined) : null;
  }

  isBusy(name: string): boolean {
    return this.#slots.get(name)?.active !== null && this.#slots.get(name)?.active !== undefined;
  }

  currentRun(name: string): RunDetail | null {
    const slot = this.#slots.get(name);
    const active = slot?.active;
    if (!active || active.runId === '') return null;
    const attempts = this.#o.store.attemptsOf(name, active.sequence);
    if (attempts.length === 0) return null;
    const detail = toRunDetail(attempts, this.#o.store.listParts(active.runId));
    const progress = active.progress;
    if (active.phase !== 'running' || !progress) return detail;
    // Live figures come from the engine's last report; the row holds them only at the end.
    return {
      ...detail,
      rows_extracted: progress.rows,
      bytes: progress.bytes,
      parts: progress.parts.length > 0 ? [...progress.parts] : detail.parts,
    };
  }

  /**
   * Stops firing, waits up to `graceMs` for active runs, then cancels them; resolves when all
   * settled. A second call (another SIGTERM) waits for the same drain.
   */
  drain(graceMs: number): Promise<void> {
    this.#draining ??= this.#drain(graceMs);
    return this.#draining;
  }

  async #drain(graceMs: number): Promise<void> {
    this.#state = 'draining';
    for (const slot of this.#slots.values()) {
      this.#disarm(slot);
      slot.queued = false;
      if (slot.active?.phase === 'retrying') slot.active.abandon();
    }
    const running = [...this.#slots.values()].flatMap((s) => (s.active ? [s.active] : []));
    await drainRuns(running, graceMs, this.#o.clock, this.#o.logger);
    this.#state = 'stopped';
    this.#changed();
  }

  // ------------------------------------------------------------------ internals

  #slot(name: string): Slot {
    const slot = this.#slots.get(name);
    if (slot && !slot.removed) return slot;
    const broken = this.#invalid.get(name);
    if (broken)
      throw new EtlError(
        'CONFIG_INVALID',
        `pipeline ${name} is invalid (${broken.file}): ${broken.problems.join('; ')}`,
      );
    throw new EtlError('NOT_FOUND', `no pipeline named "${name}" (etlctl list shows the pipelines)`);
  }

  #known(name: string): void {
    if (!this.#invalid.has(name)) this.#slot(name);
  }

  #deps(slot: Slot): SequenceDeps {
    const { store, engine, clock, logger, events, alerts, defaults } = this.#o;
    return {
      store,
      engine,
      clock,
      logger,
      events,
      alerts,
      stallTimeoutMs: slot.pipeline.config.stall_timeout ?? defaults.stallTimeoutMs,
      zone: slot.zone,
      onChange: () => this.#changed(),
      acceptingRuns: () => this.#state === 'running',
      mayContinue: () => this.#mayContinue(slot),
    };
  }

  /**
   * Starts a new run under the pipeline's fleet run lease, held until the run sequence ends
   * (across its retries). Returns the host holding the lease when it is another one.
   */
  #startLeased(slot: Slot, trigger: RunTrigger, order: RunOrder): RunSequence | string {
    const name = slot.pipeline.name;
    const holder = this.#acquire(name, `${name}-starting`);
    if (holder !== null) return holder;
    let sequence: RunSequence;
    try {
      // A new sequence never starts beside an unfinished one: a run whose host lost the lease
      // (killed, or silent for a lease time) is continued under its own sequence first, or a new
      // sequence could plan from watermarks the unfinished run is about to move and load its
      // batch again. With the lease held, the newest row cannot change under this host.
      const unfinished = this.#fleet.shared ? this.#unfinishedRun(name) : undefined;
      // A full refresh or backfill is not what the operator would get by continuing the other
      // run, and cannot go beside it: refused, with what to do, instead of silently swapped.
      if (unfinished !== undefined && order.run.kind !== 'normal')
        throw new EtlError(
          'ILLEGAL_STATE',
          `pipeline ${name}: run ${unfinished.id} was left ${unfinished.status} by its host and must finish before a ${order.run.kind === 'full_refresh' ? 'full refresh' : 'backfill'} (a new run beside it could load its batch twice); etlctl start ${name} continues it now, or the next schedule fire or takeover check does; then ask again`,
        );
      sequence =
        unfinished === undefined
          ? new RunSequence(this.#deps(slot), slot.pipeline, { kind: 'new', trigger, order }).start()
          : this.#continueUnfinished(slot, unfinished);
    } catch (error) {
      this.#release(name);
      throw error;
    }
    this.#track(slot, sequence);
    // The lease now names the run (etlctl hosts); it is this host's already.
    if (this.#fleet.shared) this.#acquire(name, sequence.logicalRunId);
    return sequence;
  }

  /** The pipeline's newest run when another host left it unfinished (nothing runs it here). */
  #unfinishedRun(name: string): RunRow | undefined {
    const newest = this.#o.store.listRuns(name, 1)[0];
    return newest !== undefined && TAKEOVER.has(newest.status) ? newest : undefined;
  }

  /** Continues a run another host left unfinished, as a takeover does (its sequence, its plan). */
  #continueUnfinished(slot: Slot, row: RunRow): RunSequence {
    const { store, logger, clock } = this.#o;
    logger.warning(`run ${row.id} was left ${row.status} by its host: continued here before any new run`, {
      pipeline: row.pipeline,
      runId: row.id,
    });
    const resumable =
      row.status === 'running' || row.status === 'queued'
        ? markInterrupted(store, row, clock.now(), logger, (data) => this.#emit('run.state', data))
        : row;
    return new RunSequence(this.#deps(slot), slot.pipeline, { kind: 'resume', row: resumable }).start();
  }

  /** Takes the pipeline's run lease: null when granted, else the host that holds it. */
  #acquire(name: string, runId: string): string | null {
    const answer = this.#fleet.acquireRunLease(name, runId);
    if (!answer.granted) return answer.holder;
    this.#leased.add(name);
    return null;
  }

  #release(name: string): void {
    this.#leased.delete(name);
    try {
      this.#fleet.releaseRunLease(name);
    } catch (error) {
      this.#o.logger.warning(
        `could not give back the run lease of ${name} (${toEtlError(error).message}); it expires by itself`,
        { pipeline: name },
      );
    }
  }

  /** Before a retry attempt: renews the lease, so a host that lost it starts no attempt. */
  #mayContinue(slot: Slot): boolean {
    if (!this.#fleet.shared) return true;
    const name = slot.pipeline.name;
    try {
      const holder = this.#acquire(name, slot.active?.logicalRunId ?? `${name}-retry`);
      if (holder === null) return true;
      this.#o.logger.warning(`the run lease of ${name} is held by host ${holder}`, { pipeline: name });
    } catch (error) {
      this.#o.logger.warning(`cannot renew the run lease of ${name}: ${toEtlError(error).message}`, {
        pipeline: name,
      });
    }
    return false;
  }

  /**
   * Start-up: whether this host may mark a run row another daemon left `running` interrupted. In
   * a fleet, only under the pipeline's lease (a live host holding it is still running that run),
   * and only if the row, read again under the lease, is still unfinished.
   */
  #adopt(row: RunRow): boolean {
    if (!this.#fleet.shared) return true;
    const holder = this.#acquire(row.pipeline, runIdOf(row.pipeline, row.sequence));
    if (holder !== null) {
      this.#o.logger.debug(`run ${row.id} is running on host ${holder}: left to it`, {
        pipeline: row.pipeline,
      });
      return false;
    }
    const fresh = this.#o.store.getRun(row.id);
    return fresh !== undefined && fresh !== null && (fresh.status === 'running' || fresh.status === 'queued');
  }

  #track(slot: Slot, sequence: RunSequence): void {
    slot.active = sequence;
    this.#changed();
    sequence.done.then(
      () => this.#sequenceEnded(slot, sequence),
      (error: unknown) => {
        this.#o.logger.error(`run ${sequence.runId} ended abnormally: ${toEtlError(error).message}`, {
          pipeline: slot.pipeline.name,
        });
        this.#sequenceEnded(slot, sequence);
      },
    );
  }

  #sequenceEnded(slot: Slot, sequence: RunSequence): void {
    if (slot.active !== sequence) return;
    slot.active = null;
    const name = slot.pipeline.name;
    this.#release(name);
    if (slot.removed) {
      this.#slots.delete(name);
    } else if (slot.queued) {
      slot.queued = false;
      if (this.#state === 'running' && !this.#o.store.getRuntime(name).paused) {
        this.#o.logger.info(`starting the run queued behind ${sequence.runId} (overlap: queue)`, {
          pipeline: name,
        });
        try {
          const holder = this.#startLeased(slot, 'schedule', NORMAL_RUN);
          if (typeof holder === 'string')
            this.#o.store.markSkip(
              name,
              `running on host ${holder}: the run queued behind ${sequence.runId} was dropped`,
              this.#o.clock.now().toISOString(),
            );
        } catch (error) {
          this.#o.logger.error(`queued run of ${name} could not start: ${toEtlError(error).message}`, {
            pipeline: name,
          });
        }
      }
    }
    this.#changed();
  }

  /**
   * Continue a run the previous daemon (start-up) or a dead host (takeover, `statuses` with
   * `running`) left unfinished, under the pipeline's run lease: a live host holding it is still
   * running it.
   */
  #recover(slot: Slot, statuses: ReadonlySet<string>): void {
    const { store, logger, clock } = this.#o;
    const name = slot.pipeline.name;
    const seen = store.listRuns(name, 1)[0];
    if (!seen || !statuses.has(seen.status)) return;
    const holder = this.#acquire(name, runIdOf(name, seen.sequence));
    if (holder !== null) {
      logger.debug(`run ${seen.id} is held by host ${holder}: left to it`, { pipeline: name });
      return;
    }
    // Under the lease the row can no longer move on elsewhere: read it again.
    let newest = this.#fleet.shared ? store.listRuns(name, 1)[0] : seen;
    if (
      newest !== undefined &&
      statuses === TAKEOVER &&
      (newest.status === 'running' || newest.status === 'queued')
    ) {
      logger.warning(`run ${newest.id} lost its host (no live run lease): this host takes it over`, {
        pipeline: name,
        runId: newest.id,
      });
      newest = markInterrupted(store, newest, clock.now(), logger, (data) => this.#emit('run.state', data));
    }
    if (!newest || !RECOVERABLE.has(newest.status)) {
      this.#release(name);
      return;
    }
    const sequence = new RunSequence(this.#deps(slot), slot.pipeline, {
      kind: 'resume',
      row: newest,
    }).start();
    if (sequence.phase !== 'done') this.#track(slot, sequence);
    else this.#release(name);
  }

  #arm(slot: Slot, after: Date): void {
    this.#disarm(slot);
    slot.nextFireAt = nextFireTime(slot.schedule, slot.zone, after);
    if (this.#state !== 'running' || slot.removed || slot.nextFireAt === null) return;
    const fireAt = slot.nextFireAt;
    slot.timer = this.#o.clock.setTimer(fireAt.getTime() - this.#o.clock.now().getTime(), () =>
      this.#onTimer(slot, fireAt),
    );
  }

  #disarm(slot: Slot): void {
    if (slot.timer !== null) this.#o.clock.clearTimer(slot.timer);
    slot.timer = null;
  }

  #onTimer(slot: Slot, fireAt: Date): void {
    slot.timer = null;
    if (this.#state !== 'running' || slot.removed) return;
    const now = this.#o.clock.now();
    if (now.getTime() < fireAt.getTime()) {
      // Woke early (timer slack): wait for the real fire time.
      slot.timer = this.#o.clock.setTimer(fireAt.getTime() - now.getTime(), () =>
        this.#onTimer(slot, fireAt),
      );
      return;
    }
    try {
      const name = slot.pipeline.name;
      this.#o.store.markFire(name, fireAt.toISOString());
      // Every host of a fleet wakes for this fire; the one whose claim lands decides it, and
      // writes what it decided on the claim (docs/fleet.md: a fire's outcome is on record).
      const key = fireAt.toISOString();
      if (this.#fleet.claimFire(name, key))
        this.#fleet.recordFireOutcome(name, key, this.#fire(slot, fireAt));
      else
        this.#o.logger.debug(`schedule fired at ${fireAt.toISOString()}: claimed by another host`, {
          pipeline: name,
        });
    } catch (error) {
      this.#o.logger.error(`schedule fire of ${slot.pipeline.name} failed: ${toEtlError(error).message}`, {
        pipeline: slot.pipeline.name,
      });
    }
    // A late wake-up (suspend, blocked loop) does not replay the fires it slept through.
    this.#arm(slot, new Date(Math.max(fireAt.getTime(), now.getTime())));
    this.#changed();
  }

  /** Acts on a schedule fire and says what it did: `run <id>`, `queued`, or `skipped: <why>`. */
  #fire(slot: Slot, fireAt: Date): string {
    const { store, logger } = this.#o;
    const name = slot.pipeline.name;
    const at = fireAt.toISOString();
    if (slot.held !== null) {
      const reason = `an operator was changing its ${slot.held} when the schedule fired at ${at}`;
      store.markSkip(name, reason, at);
      logger.info(`schedule fired at ${at}: skipped, ${reason}`, { pipeline: name });
      return `skipped: ${reason}`;
    }
    const decision = decideFire({
      at,
      paused: store.getRuntime(name).paused,
      overlap: slot.pipeline.config.overlap,
      active: slot.active,
      alreadyQueued: slot.queued,
    });
    switch (decision.kind) {
      case 'start': {
        // Overlap is fleet-wide through the run lease. A run on another host cannot have a run
        // queued behind it here (this host would not know when it ends), so `overlap: queue`
        // degrades to a skip when the active run is another host's.
        const started = this.#startLeased(slot, 'schedule', NORMAL_RUN);
        if (typeof started === 'string') {
          const reason = `running on host ${started} when the schedule fired at ${at}`;
          store.markSkip(name, reason, at);
          logger.info(`schedule fired at ${at}: skipped, ${reason}`, { pipeline: name });
          return `skipped: ${reason}`;
        }
        return `run ${started.runId}`;
      }
      case 'queue':
        slot.queued = true;
        logger.info(decision.log, { pipeline: name });
        return 'queued';
      case 'skip':
        store.markSkip(name, decision.reason, at);
        logger.info(`schedule fired at ${at}: skipped, ${decision.reason}`, { pipeline: name });
        return `skipped: ${decision.reason}`;
    }
  }

  #nextRunAt(slot: Slot, paused: boolean): string | null {
    if (paused || this.#state === 'draining' || this.#state === 'stopped') return null;
    return slot.nextFireAt?.toISOString() ?? null;
  }

  #summary(slot: Slot): PipelineSummary {
    const { store } = this.#o;
    const paused = store.getRuntime(slot.pipeline.name).paused;
    const broken = this.#invalid.get(slot.pipeline.name);
    return pipelineSummary({
      ...(broken?.file === slot.pipeline.file ? { lastGoodProblems: broken.problems } : {}),
      pipeline: slot.pipeline,
      schedule: slot.schedule,
      zone: slot.zone,
      active: slot.active,
      paused,
      nextRunAt: this.#nextRunAt(slot, paused),
      lastRun: latestRun(store, slot.pipeline.name),
      freshness: this.#o.freshness?.(slot.pipeline.name) ?? null,
    });
  }

  #changed(): void {
    if (this.#state === 'created') return;
    try {
      this.#emit('pipelines.changed', { pipelines: this.summaries() });
    } catch (error) {
      this.#o.logger.error(`could not publish pipeline summaries: ${toEtlError(error).message}`);
    }
  }

  #emit<E extends EventName>(event: E, data: EventData<E>): void {
    try {
      this.#o.events.emit(event, data);
    } catch (error) {
      this.#o.logger.error(`event listener for ${event} failed: ${toEtlError(error).message}`);
    }
  }
}
