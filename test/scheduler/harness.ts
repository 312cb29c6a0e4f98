/** Test wiring for the supervisor: fake clock, real SQLite state store, scripted engine, recorded alerts and events. */
import { pipelineSchema } from '../../shared/config/pipeline-schema.js';
import { EtlError, type ErrorCode } from '../../shared/errors.js';
import type { CheckResult, EventData } from '../../shared/protocol.js';
import type { ChecksAlert, MaintenanceAlert } from '../../daemon/alerts/alert-messages.js';
import type { LoadedPipeline } from '../../shared/config/pipeline-files.js';
import type { RunEngine, RunOutcome, RunRequest } from '../../daemon/engine/engine.js';
import { EventBus } from '../../daemon/events/event-bus.js';
import { FanoutLogger, type LogRecord } from '../../daemon/logging/logger.js';
import { openStateStore } from '../../daemon/state/sqlite-store.js';
import type { StateStore } from '../../daemon/state/store.js';
import type { FleetCoordinator } from '../../daemon/fleet/coordinator.js';
import type {
  AlertHooks,
  FailureAlert,
  FilesQuarantinedAlert,
  RecoveryAlert,
  StallAlert,
} from '../../daemon/scheduler/alert-hooks.js';
import { Supervisor } from '../../daemon/scheduler/supervisor.js';
import type { SourceGovernor } from '../../daemon/scheduler/source-governor.js';
import { FakeClock } from './fake-clock.js';

export function pipeline(name: string, overrides: Record<string, unknown> = {}): LoadedPipeline {
  const config = pipelineSchema.parse({
    name,
    timezone: 'UTC',
    source: { type: 'postgres', connection: { host: 'db1', port: 5432, database: 'shop' }, table: 'orders' },
    load: { mode: 'full' },
    destination: { type: 'duckdb', path: 'lake.duckdb', table: name },
    ...overrides,
  });
  return { name, file: `/etc/etld/pipelines/${name}.yaml`, config };
}

export function outcome(rows: number): RunOutcome {
  return {
    rowsExtracted: rows,
    rowsLoaded: rows,
    rowsExcluded: 0,
    notes: [],
    bytes: rows * 10,
    verdict: 'match',
    alreadyCommitted: false,
    watermarkFrom: null,
    watermarkTo: null,
    stages: {},
    checks: [],
  };
}

export type Script = (request: RunRequest) => Promise<RunOutcome>;

export const succeed =
  (rows = 5): Script =>
  () =>
    Promise.resolve(outcome(rows));

export const fail =
  (code: ErrorCode, message = `${code.toLowerCase()} from the fake engine`): Script =>
  () =>
    Promise.reject(new EtlError(code, message));

/**
 * An attempt whose data quality checks end in `checks`, as the engine judges them: the results go
 * to the attempt's row first; a `fail` among them stops the run with CHECK_FAILED, else it commits.
 */
export const judged =
  (store: StateStore, checks: readonly CheckResult[], rows = 5): Script =>
  (request) => {
    store.updateRun(request.runId, { checks });
    const failed = checks.filter((c) => c.status === 'fail');
    if (failed.length > 0)
      return Promise.reject(
        new EtlError('CHECK_FAILED', `${failed.map((c) => c.detail).join('; ')}; nothing was committed`, {
          retryable: false,
        }),
      );
    return Promise.resolve({ ...outcome(rows), checks });
  };

/** Never finishes on its own; rejects CANCELLED once the attempt's signal aborts (as the engine does). */
export const hang = (): Script => (request) => untilAborted(request);

export function untilAborted(request: RunRequest): Promise<never> {
  return new Promise((_, reject) => {
    const cancel = (): void => reject(new EtlError('CANCELLED', `run ${request.runId} cancelled`));
    if (request.signal.aborted) cancel();
    else request.signal.addEventListener('abort', cancel, { once: true });
  });
}

/** An attempt the test finishes by hand. */
export function controllable(): {
  script: Script;
  finish: (rows?: number) => void;
  failWith: (error: EtlError) => void;
} {
  let resolve: ((o: RunOutcome) => void) | undefined;
  let reject: ((e: unknown) => void) | undefined;
  return {
    script: (request) =>
      new Promise<RunOutcome>((res, rej) => {
        resolve = res;
        reject = rej;
        request.signal.addEventListener('abort', () => rej(new EtlError('CANCELLED', 'aborted')), {
          once: true,
        });
      }),
    finish: (rows = 5) => resolve?.(outcome(rows)),
    failWith: (error) => reject?.(error),
  };
}

export class ScriptedEngine implements RunEngine {
  readonly requests: { request: RunRequest; at: string }[] = [];
  readonly #scripts: Script[] = [];
  #fallback: Script;
  readonly #now: () => Date;

  constructor(now: () => Date, fallback: Script = succeed()) {
    this.#now = now;
    this.#fallback = fallback;
  }

  script(...scripts: Script[]): this {
    this.#scripts.push(...scripts);
    return this;
  }

  otherwise(script: Script): this {
    this.#fallback = script;
    return this;
  }

  execute(request: RunRequest): Promise<RunOutcome> {
    this.requests.push({ request, at: this.#now().toISOString() });
    return (this.#scripts.shift() ?? this.#fallback)(request);
  }

  plan(): Promise<never> {
    return Promise.reject(new EtlError('INTERNAL', 'plan is not scripted'));
  }
  preview(): Promise<never> {
    return Promise.reject(new EtlError('INTERNAL', 'preview is not scripted'));
  }
  pendingFiles(): Promise<never> {
    return Promise.reject(new EtlError('INTERNAL', 'pendingFiles is not scripted'));
  }
  reconcile(): Promise<number | null> {
    return Promise.resolve(null);
  }
  committedInDestination(): Promise<number | null> {
    return Promise.resolve(null);
  }
  validateAgainstSource(): Promise<never> {
    return Promise.reject(new EtlError('INTERNAL', 'validateAgainstSource is not scripted'));
  }
  vacuum(): Promise<never> {
    return Promise.reject(new EtlError('INTERNAL', 'vacuum is not scripted'));
  }
  cursorValues(): Promise<never> {
    return Promise.reject(new EtlError('INTERNAL', 'cursorValues is not scripted'));
  }
  checkBackfill(): Promise<never> {
    return Promise.reject(new EtlError('INTERNAL', 'checkBackfill is not scripted'));
  }
  testConnections(): Promise<never> {
    return Promise.reject(new EtlError('INTERNAL', 'testConnections is not scripted'));
  }
}

export class RecordingAlerts implements AlertHooks {
  readonly failures: FailureAlert[] = [];
  readonly recoveries: RecoveryAlert[] = [];
  readonly stalls: StallAlert[] = [];
  readonly checks: ChecksAlert[] = [];
  readonly maintenance: MaintenanceAlert[] = [];
  readonly filesQuarantined: FilesQuarantinedAlert[] = [];
  notifyFailure(alert: FailureAlert): void {
    this.failures.push(alert);
  }
  notifyRecovery(alert: RecoveryAlert): void {
    this.recoveries.push(alert);
  }
  notifyStall(alert: StallAlert): void {
    this.stalls.push(alert);
  }
  notifyChecks(alert: ChecksAlert): void {
    this.checks.push(alert);
  }
  notifyMaintenance(alert: MaintenanceAlert): void {
    this.maintenance.push(alert);
  }
  notifyFilesQuarantined(alert: FilesQuarantinedAlert): void {
    this.filesQuarantined.push(alert);
  }
}

export interface Harness {
  readonly clock: FakeClock;
  readonly store: StateStore;
  readonly engine: ScriptedEngine;
  readonly alerts: RecordingAlerts;
  readonly events: EventBus;
  readonly states: EventData<'run.state'>[];
  readonly logs: LogRecord[];
  readonly supervisor: Supervisor;
  /** A second supervisor on the same store and clock (a daemon restart). */
  restart(): Supervisor;
}

export function harness(
  start: string,
  options: {
    store?: StateStore;
    governor?: SourceGovernor;
    stallTimeoutMs?: number;
    fleet?: FleetCoordinator;
  } = {},
): Harness {
  const clock = new FakeClock(start);
  const store = options.store ?? openStateStore(':memory:', () => clock.now());
  const engine = new ScriptedEngine(() => clock.now());
  const alerts = new RecordingAlerts();
  const events = new EventBus();
  const states: EventData<'run.state'>[] = [];
  events.on('run.state', (data) => states.push(data));
  const logs: LogRecord[] = [];
  const logger = new FanoutLogger([{ write: (record) => logs.push(record) }]);
  const make = (): Supervisor =>
    new Supervisor({
      store,
      engine,
      clock,
      logger,
      events,
      alerts,
      ...(options.governor ? { governor: options.governor } : {}),
      ...(options.fleet ? { coordinator: options.fleet } : {}),
      defaults: { stallTimeoutMs: options.stallTimeoutMs ?? 600_000, timezone: 'UTC' },
    });
  return { clock, store, engine, alerts, events, states, logs, supervisor: make(), restart: make };
}
