/**
 * Freshness (`freshness: 2h` in a pipeline file, `defaults.freshness` in etld.yaml): a pipeline
 * whose last successful run finished longer ago than its threshold is stale. Becoming stale sends
 * one `stale` alert; the next success sends one `fresh` alert. `list`, `status`, `why`, the
 * console and /metrics show the state.
 *
 * Decisions:
 * - Time comes from the scheduler's Clock, so tests drive hours with a fake clock. The monitor
 *   wakes at the earliest moment a fresh pipeline would turn stale, and at least every minute.
 * - A pipeline that never succeeded is measured from the moment this daemon first saw it.
 * - Paused pipelines are shown stale but not alerted: the operator stopped them on purpose. The
 *   alert goes out if it is still stale once resumed.
 * - Across restarts the episode is read back from the alerts table (the newest stale/fresh row),
 *   so a restarting daemon neither repeats a stale alert nor forgets to send the recovery.
 */
import type { PipelineFreshness } from '../../shared/protocol.js';
import { runIdOf } from '../../shared/run-ids.js';
import type { FreshAlert, StaleAlert } from '../alerts/alert-messages.js';
import type { LoadedPipeline } from '../../shared/config/pipeline-files.js';
import type { EventBus } from '../events/event-bus.js';
import type { Logger } from '../logging/logger.js';
import type { Clock, TimerHandle } from '../scheduler/clock.js';
import type { StateStore } from '../state/store.js';

export interface FreshnessAlerts {
  notifyStale(alert: StaleAlert): void;
  notifyFresh(alert: FreshAlert): void;
}

export interface FreshnessOptions {
  readonly clock: Clock;
  readonly store: Pick<StateStore, 'lastSuccess' | 'listAlerts' | 'getRuntime' | 'listRuns'>;
  readonly alerts: FreshnessAlerts;
  readonly logger: Logger;
  /** `defaults.freshness` in ms; undefined: only pipelines with their own `freshness`. */
  readonly defaultMs?: number;
  /** The longest sleep between evaluations (pause changes are noticed at the next one). */
  readonly intervalMs?: number;
  /** When a pipeline's next fire is (the stale alert names it). */
  readonly nextRunAt?: (pipeline: string) => string | null;
  /** Called when any pipeline's freshness changed (summaries are republished). */
  readonly onChange?: () => void;
}

interface Tracked {
  thresholdMs: number;
  /** Reference for a pipeline that never succeeded: when this daemon first saw it. */
  readonly firstSeen: number;
  /** The newest alert of this episode: 'stale' (sent) or 'fresh'/none. Null until read from the store. */
  alerted: 'stale' | 'fresh' | null;
  view: PipelineFreshness;
}

const HOUR_MS = 3_600_000;
const EPISODE_LOOKBACK_MS = 90 * 24 * HOUR_MS;

export class FreshnessMonitor {
  readonly #o: FreshnessOptions;
  readonly #tracked = new Map<string, Tracked>();
  #timer: TimerHandle | null = null;
  #running = false;

  constructor(options: FreshnessOptions) {
    this.#o = options;
  }

  /** Initial load and every reload: thresholds per pipeline (`off` or none: not tracked). */
  setPipelines(pipelines: readonly LoadedPipeline[]): void {
    const now = this.#o.clock.now().getTime();
    const keep = new Set<string>();
    for (const pipeline of pipelines) {
      const own = pipeline.config.freshness;
      const thresholdMs = own === 'off' ? undefined : (own ?? this.#o.defaultMs);
      if (thresholdMs === undefined) continue;
      keep.add(pipeline.name);
      const known = this.#tracked.get(pipeline.name);
      if (known) known.thresholdMs = thresholdMs;
      else
        this.#tracked.set(pipeline.name, {
          thresholdMs,
          firstSeen: now,
          alerted: null,
          view: { threshold_s: thresholdMs / 1000, last_success_at: null, stale: false, stale_since: null },
        });
    }
    for (const name of [...this.#tracked.keys()]) if (!keep.has(name)) this.#tracked.delete(name);
    if (this.#running) this.check();
  }

  /** Evaluates now and keeps evaluating; re-evaluates a pipeline as soon as a run of it succeeds. */
  start(events?: EventBus): void {
    this.#running = true;
    events?.on('run.state', (event) => {
      if (event.status === 'succeeded' && this.#tracked.has(event.pipeline)) this.check();
    });
    this.check();
  }

  stop(): void {
    this.#running = false;
    if (this.#timer !== null) this.#o.clock.clearTimer(this.#timer);
    this.#timer = null;
  }

  /** The `freshness` of a pipeline's summary; null when it has no freshness check. */
  of(pipeline: string): PipelineFreshness | null {
    return this.#tracked.get(pipeline)?.view ?? null;
  }

  /** Evaluates every tracked pipeline, sends the alerts due, and arms the next wake-up. */
  check(): void {
    const now = this.#o.clock.now().getTime();
    let changed = false;
    let nextBreach = Number.POSITIVE_INFINITY;
    for (const [name, tracked] of this.#tracked) {
      try {
        const result = this.#evaluate(name, tracked, now);
        changed = result.changed || changed;
        if (result.staleAt > now) nextBreach = Math.min(nextBreach, result.staleAt);
      } catch (error) {
        this.#o.logger.error(
          `freshness check failed: ${error instanceof Error ? error.message : String(error)}`,
          { pipeline: name },
        );
      }
    }
    if (changed) this.#o.onChange?.();
    this.#arm(now, nextBreach);
  }

  #arm(now: number, nextBreach: number): void {
    if (this.#timer !== null) this.#o.clock.clearTimer(this.#timer);
    this.#timer = null;
    if (!this.#running || this.#tracked.size === 0) return;
    const interval = this.#o.intervalMs ?? 60_000;
    const delay = Math.max(0, Math.min(interval, nextBreach - now));
    this.#timer = this.#o.clock.setTimer(delay, () => {
      this.#timer = null;
      this.check();
    });
  }

  /** Whether the pipeline's view changed, and when it turns (or turned) stale. */
  #evaluate(name: string, tracked: Tracked, now: number): { changed: boolean; staleAt: number } {
    const { store } = this.#o;
    const lastSuccess = store.lastSuccess(name);
    const lastSuccessAt = lastSuccess?.finishedAt ?? null;
    const reference = lastSuccessAt === null ? tracked.firstSeen : Date.parse(lastSuccessAt);
    const staleAt = reference + tracked.thresholdMs;
    const stale = now >= staleAt;
    const view: PipelineFreshness = {
      threshold_s: tracked.thresholdMs / 1000,
      last_success_at: lastSuccessAt,
      stale,
      stale_since: stale ? new Date(staleAt).toISOString() : null,
    };
    const previous = tracked.view;
    tracked.view = view;
    tracked.alerted ??= this.#episodeFromStore(name, now);

    if (stale && tracked.alerted !== 'stale' && !store.getRuntime(name).paused) {
      tracked.alerted = 'stale';
      this.#o.logger.warning(
        `pipeline is stale: ${lastSuccessAt === null ? 'no successful run' : `last success at ${lastSuccessAt}`}, freshness ${tracked.thresholdMs / 1000}s`,
        { pipeline: name },
      );
      const last = store.listRuns(name, 1)[0];
      this.#o.alerts.notifyStale({
        pipeline: name,
        thresholdMs: tracked.thresholdMs,
        lastSuccessAt,
        staleSince: view.stale_since ?? new Date(staleAt).toISOString(),
        lastRun: last
          ? {
              id: runIdOf(name, last.sequence),
              status: last.status,
              at: last.finishedAt ?? last.startedAt,
              errorCode: last.errorCode,
            }
          : null,
        nextRunAt: this.#o.nextRunAt?.(name) ?? null,
      });
    } else if (!stale && tracked.alerted === 'stale' && lastSuccessAt !== null) {
      tracked.alerted = 'fresh';
      this.#o.logger.notice(`pipeline is fresh again: last success at ${lastSuccessAt}`, { pipeline: name });
      this.#o.alerts.notifyFresh({
        pipeline: name,
        thresholdMs: tracked.thresholdMs,
        lastSuccessAt,
        staleSince:
          previous.stale && previous.stale_since !== null ? previous.stale_since : this.#staleSince(name),
        runId: lastSuccess ? runIdOf(name, lastSuccess.sequence) : null,
      });
    }
    const changed =
      previous.stale !== view.stale ||
      previous.last_success_at !== view.last_success_at ||
      previous.threshold_s !== view.threshold_s;
    return { changed, staleAt };
  }

  /** After a restart: the newest stale/fresh alert row says whether a stale episode is open. */
  #episodeFromStore(name: string, now: number): 'stale' | 'fresh' {
    const since = new Date(now - EPISODE_LOOKBACK_MS).toISOString();
    const last = this.#o.store.listAlerts(name, since).find((a) => a.kind === 'stale' || a.kind === 'fresh');
    return last?.kind === 'stale' ? 'stale' : 'fresh';
  }

  #staleSince(name: string): string {
    const since = new Date(this.#o.clock.now().getTime() - EPISODE_LOOKBACK_MS).toISOString();
    const row = this.#o.store.listAlerts(name, since).find((a) => a.kind === 'stale');
    return row?.createdAt ?? 'unknown';
  }
}
