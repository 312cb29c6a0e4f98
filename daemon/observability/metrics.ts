/**
 * etld's Prometheus metrics (prom-client), served by the HTTP endpoint's /metrics.
 *
 * Decisions:
 * - Labels are pipeline-level only (`pipeline`, `status`, `shard`, `host`, `channel`, `kind`,
 *   `operation`, `check`): every value comes from configuration or a fixed set, never a run id, so
 *   the number of series is bounded by the configuration.
 * - Counters move on `run.state` events; per-pipeline gauges (last success, watermark lag,
 *   freshness, state) are computed at scrape time from the state store and the supervisor, so
 *   they are right after a restart and drop pipelines that were removed.
 * - Every known pipeline has its `etld_runs_total{status="succeeded"|"failed"}` series from the
 *   first scrape (at 0), so `increase()` sees the first run; likewise each check of the latest
 *   judgement has its `etld_check_failures_total` series.
 * - Data quality checks show the latest judgement (latest-checks.ts): a status gauge per check,
 *   encoded 0 pass, 1 warn, 2 quarantine, 3 fail (one series per check, not one per status, so a
 *   rule reads `etld_check_status >= 1`), and the failing rows of row checks.
 * - Base units: seconds and bytes; counters end in `_total`.
 */
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { EventData, PipelineSummary } from '../../shared/protocol.js';
import type { PipelineState } from '../../shared/types.js';
import type { EventBus } from '../events/event-bus.js';
import type { Logger } from '../logging/logger.js';
import type { StateStore } from '../state/store.js';
import { CHECK_STATUS_VALUES, failingRows, latestChecks } from './latest-checks.js';
import { watermarkTimeMs } from './watermark-lag.js';

/** What /metrics shows per pipeline besides counters (from the supervisor's summaries). */
export interface PipelineView {
  readonly name: string;
  readonly state: PipelineState;
  /** Null: no freshness check for this pipeline. */
  readonly freshness: { readonly thresholdSeconds: number; readonly stale: boolean } | null;
}

/** The per-pipeline view of the supervisor's summaries. */
export function pipelineViews(summaries: readonly PipelineSummary[]): PipelineView[] {
  return summaries.map((p) => ({
    name: p.name,
    state: p.state,
    freshness: p.freshness ? { thresholdSeconds: p.freshness.threshold_s, stale: p.freshness.stale } : null,
  }));
}

export interface MetricsSources {
  readonly store: Pick<StateStore, 'getRun' | 'attemptsOf' | 'lastSuccess' | 'getWatermarks' | 'listRuns'>;
  readonly pipelines: () => readonly PipelineView[];
  readonly slots?: () => readonly {
    readonly host: string;
    readonly inUse: number;
    readonly waiting: number;
  }[];
  readonly now: () => Date;
  readonly version: string;
  readonly logger: Logger;
}

const PIPELINE_STATES: readonly PipelineState[] = [
  'idle',
  'running',
  'waiting',
  'retrying',
  'paused',
  'failed',
  'invalid',
];
const FINAL = new Set(['succeeded', 'failed', 'cancelled', 'interrupted']);
const ATTEMPT_END = new Set([...FINAL, 'retrying']);

/**
 * prom-client's default collector exposes three gauges whose names end in `_total`
 * (`nodejs_active_handles_total`, …), which `promtool check metrics` rejects: a `_total` name is a
 * counter's. They are dropped after the defaults are registered; the rest (RSS, CPU seconds,
 * heap, event loop lag, GC) stays under its usual names.
 */
export function dropMisnamedDefaultMetrics(registry: Registry): void {
  for (const name of [
    'nodejs_active_handles_total',
    'nodejs_active_requests_total',
    'nodejs_active_resources_total',
  ])
    registry.removeSingleMetric(name);
}

export type AlertOutcome = 'sent' | 'failed' | 'suppressed';
export type DeliveryOutcome = 'sent' | 'failed' | 'dropped';

export class EtldMetrics {
  readonly registry = new Registry();
  readonly #sources: MetricsSources;
  readonly #runs: Counter<'pipeline' | 'status'>;
  readonly #retries: Counter<'pipeline'>;
  readonly #stalls: Counter<'pipeline'>;
  readonly #rowsExtracted: Counter<'pipeline'>;
  readonly #rowsLoaded: Counter<'pipeline'>;
  readonly #bytesExtracted: Counter<'pipeline'>;
  readonly #duration: Histogram<'pipeline' | 'status'>;
  readonly #checkFailures: Counter<'pipeline' | 'check' | 'status'>;
  readonly #alerts: Counter<'kind' | 'channel' | 'status'>;
  readonly #runEvents: Counter<'channel' | 'event' | 'outcome'>;
  readonly #slotWaits: Counter<'host'>;
  readonly #slotWaitSeconds: Counter<'host'>;
  readonly #storeSeconds: Histogram<'operation'>;
  readonly #storeErrors: Counter<'operation'>;

  constructor(sources: MetricsSources) {
    this.#sources = sources;
    const registers = [this.registry];

    new Gauge({
      name: 'etld_build_info',
      help: 'Always 1; the etld version as a label.',
      labelNames: ['version'],
      registers,
    }).set({ version: sources.version }, 1);

    this.#runs = new Counter({
      name: 'etld_runs_total',
      help: 'Runs that ended, by pipeline and final status (a run spans its retries).',
      labelNames: ['pipeline', 'status'],
      registers,
      collect() {
        for (const p of sources.pipelines()) {
          this.inc({ pipeline: p.name, status: 'succeeded' }, 0);
          this.inc({ pipeline: p.name, status: 'failed' }, 0);
        }
      },
    });
    this.#retries = new Counter({
      name: 'etld_run_retries_total',
      help: 'Failed attempts that were followed by another attempt.',
      labelNames: ['pipeline'],
      registers,
    });
    this.#stalls = new Counter({
      name: 'etld_run_stalls_total',
      help: 'Attempts cancelled by the stall watchdog (no progress for stall_timeout).',
      labelNames: ['pipeline'],
      registers,
    });
    this.#rowsExtracted = new Counter({
      name: 'etld_rows_extracted_total',
      help: 'Source rows read, summed over every attempt.',
      labelNames: ['pipeline'],
      registers,
    });
    this.#rowsLoaded = new Counter({
      name: 'etld_rows_loaded_total',
      help: 'Rows committed to the destination.',
      labelNames: ['pipeline'],
      registers,
    });
    this.#bytesExtracted = new Counter({
      name: 'etld_extracted_bytes_total',
      help: 'Bytes read from the source (as staged), summed over every attempt.',
      labelNames: ['pipeline'],
      registers,
    });
    this.#duration = new Histogram({
      name: 'etld_run_duration_seconds',
      help: 'Wall time of a run from its first attempt start to its end, by final status.',
      labelNames: ['pipeline', 'status'],
      buckets: [1, 5, 15, 30, 60, 120, 300, 600, 1800, 3600, 7200, 21600],
      registers,
    });

    new Gauge({
      name: 'etld_last_success_timestamp_seconds',
      help: 'When the last successful run of the pipeline finished (Unix time); absent if never.',
      labelNames: ['pipeline'],
      registers,
      collect() {
        this.reset();
        for (const p of sources.pipelines()) {
          const at = sources.store.lastSuccess(p.name)?.finishedAt;
          if (at) this.set({ pipeline: p.name }, Date.parse(at) / 1000);
        }
      },
    });
    new Gauge({
      name: 'etld_watermark_lag_seconds',
      help: 'Now minus the watermark, per shard, for timestamp and date cursors (zone-less values read as UTC).',
      labelNames: ['pipeline', 'shard'],
      registers,
      collect() {
        this.reset();
        const nowMs = sources.now().getTime();
        for (const p of sources.pipelines()) {
          for (const mark of sources.store.getWatermarks(p.name)) {
            const at = watermarkTimeMs(mark.value);
            if (at !== null) this.set({ pipeline: p.name, shard: mark.shard }, (nowMs - at) / 1000);
          }
        }
      },
    });
    new Gauge({
      name: 'etld_pipeline_stale',
      help: '1 when the last successful run is older than the pipeline freshness, else 0.',
      labelNames: ['pipeline'],
      registers,
      collect() {
        this.reset();
        for (const p of sources.pipelines())
          if (p.freshness) this.set({ pipeline: p.name }, p.freshness.stale ? 1 : 0);
      },
    });
    new Gauge({
      name: 'etld_pipeline_freshness_seconds',
      help: 'The freshness threshold of the pipeline (freshness in its file, or defaults.freshness).',
      labelNames: ['pipeline'],
      registers,
      collect() {
        this.reset();
        for (const p of sources.pipelines())
          if (p.freshness) this.set({ pipeline: p.name }, p.freshness.thresholdSeconds);
      },
    });
    new Gauge({
      name: 'etld_pipeline_state',
      help: '1 for the state the pipeline is in, 0 for the others.',
      labelNames: ['pipeline', 'state'],
      registers,
      collect() {
        this.reset();
        for (const p of sources.pipelines())
          for (const state of PIPELINE_STATES)
            this.set({ pipeline: p.name, state }, p.state === state ? 1 : 0);
      },
    });

    new Gauge({
      name: 'etld_check_status',
      help: 'Data quality check result of the latest run that judged the checks: 0 pass, 1 warn, 2 quarantine, 3 fail.',
      labelNames: ['pipeline', 'check'],
      registers,
      collect() {
        this.reset();
        for (const p of sources.pipelines())
          for (const check of latestChecks(sources.store, p.name))
            this.set({ pipeline: p.name, check: check.name }, CHECK_STATUS_VALUES[check.status]);
      },
    });
    new Gauge({
      name: 'etld_check_failing_rows',
      help: 'Rows that failed a row check (not_null, unique, accepted_values, range, sql) in the latest run that judged the checks.',
      labelNames: ['pipeline', 'check'],
      registers,
      collect() {
        this.reset();
        for (const p of sources.pipelines()) {
          for (const check of latestChecks(sources.store, p.name)) {
            const rows = failingRows(check);
            if (rows !== null) this.set({ pipeline: p.name, check: check.name }, rows);
          }
        }
      },
    });
    this.#checkFailures = new Counter({
      name: 'etld_check_failures_total',
      help: 'Data quality checks that did not pass, per attempt, by the status they ended in (warn, quarantine, fail).',
      labelNames: ['pipeline', 'check', 'status'],
      registers,
      collect() {
        // A failing check ends in its on_fail status: that is the one series it can move.
        for (const p of sources.pipelines())
          for (const check of latestChecks(sources.store, p.name))
            this.inc({ pipeline: p.name, check: check.name, status: check.on_fail }, 0);
      },
    });

    this.#alerts = new Counter({
      name: 'etld_alerts_total',
      help: 'Alerts by kind, channel and outcome (sent, failed after its retries, suppressed by the throttle).',
      labelNames: ['kind', 'channel', 'status'],
      registers,
    });
    this.#runEvents = new Counter({
      name: 'etld_run_events_total',
      help: 'Run events delivered to webhooks, by outcome (dropped: the channel queue was full).',
      labelNames: ['channel', 'event', 'outcome'],
      registers,
    });

    this.#slotWaits = new Counter({
      name: 'etld_source_slot_waits_total',
      help: 'Times a source query waited for a free slot of its host (source_slots_per_host).',
      labelNames: ['host'],
      registers,
    });
    this.#slotWaitSeconds = new Counter({
      name: 'etld_source_slot_wait_seconds_total',
      help: 'Time source queries spent waiting for a slot of their host.',
      labelNames: ['host'],
      registers,
    });
    new Gauge({
      name: 'etld_source_slots_in_use',
      help: 'Source query slots in use per source host.',
      labelNames: ['host'],
      registers,
      collect() {
        this.reset();
        for (const u of sources.slots?.() ?? []) this.set({ host: u.host }, u.inUse);
      },
    });
    new Gauge({
      name: 'etld_source_slot_waiters',
      help: 'Source queries waiting for a slot per source host.',
      labelNames: ['host'],
      registers,
      collect() {
        this.reset();
        for (const u of sources.slots?.() ?? []) this.set({ host: u.host }, u.waiting);
      },
    });

    this.#storeSeconds = new Histogram({
      name: 'etld_state_store_operation_duration_seconds',
      help: 'Latency of state store calls (SQLite), by operation.',
      labelNames: ['operation'],
      buckets: [0.0001, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1, 5],
      registers,
    });
    this.#storeErrors = new Counter({
      name: 'etld_state_store_errors_total',
      help: 'State store calls that threw, by operation.',
      labelNames: ['operation'],
      registers,
    });
  }

  /** Counts runs, attempts, rows, retries and stalls from the run events; returns the unsubscribe. */
  attach(events: EventBus): () => void {
    return events.on('run.state', (event) => {
      try {
        this.#onRunState(event);
      } catch (error) {
        this.#sources.logger.warning(
          `metrics: run event not counted: ${error instanceof Error ? error.message : String(error)}`,
        );
      }
    });
  }

  alert(kind: string, channel: string, status: AlertOutcome): void {
    this.#alerts.inc({ kind, channel, status });
  }

  runEvent(channel: string, event: string, outcome: DeliveryOutcome): void {
    this.#runEvents.inc({ channel, event, outcome });
  }

  slotWait(host: string): void {
    this.#slotWaits.inc({ host });
  }

  slotWaited(host: string, seconds: number): void {
    this.#slotWaitSeconds.inc({ host }, Math.max(0, seconds));
  }

  storeCall(operation: string, seconds: number, failed: boolean): void {
    this.#storeSeconds.observe({ operation }, seconds);
    if (failed) this.#storeErrors.inc({ operation });
  }

  /** The text exposition format (version 0.0.4). */
  render(): Promise<string> {
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  #onRunState(event: EventData<'run.state'>): void {
    if (!ATTEMPT_END.has(event.status)) return;
    const pipeline = event.pipeline;
    const attempt = this.#sources.store.getRun(event.attempt_id);
    if (attempt) {
      this.#rowsExtracted.inc({ pipeline }, attempt.rowsExtracted);
      this.#rowsLoaded.inc({ pipeline }, attempt.rowsLoaded);
      this.#bytesExtracted.inc({ pipeline }, attempt.bytes);
      for (const check of attempt.checks)
        if (check.status !== 'pass')
          this.#checkFailures.inc({ pipeline, check: check.name, status: check.status });
    }
    if (event.error?.code === 'STALLED') this.#stalls.inc({ pipeline });
    if (event.status === 'retrying') {
      this.#retries.inc({ pipeline });
      return;
    }
    this.#runs.inc({ pipeline, status: event.status });
    const sequence = Number(event.run_id.slice(pipeline.length + 1));
    const attempts = Number.isInteger(sequence) ? this.#sources.store.attemptsOf(pipeline, sequence) : [];
    const first = attempts[0]?.startedAt ?? attempt?.startedAt ?? null;
    const end = attempt?.finishedAt ?? event.at;
    if (first !== null) {
      this.#duration.observe(
        { pipeline, status: event.status },
        Math.max(0, (Date.parse(end) - Date.parse(first)) / 1000),
      );
    }
  }
}
