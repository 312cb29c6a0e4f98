/**
 * The daemon's lifecycle as an explicit state machine:
 *   starting → running → draining → stopped
 * `running` is entered once every part is up; `draining` stops new runs and gives running ones the
 * grace period; `stopped` has released the socket, the state store and the lock.
 * Reloads (SIGHUP, `etlctl reload`) are only accepted while running.
 */
import { EtlError } from '../shared/errors.js';
import type { DaemonSettings } from '../shared/config/daemon-schema.js';
import type { ReloadDiff } from './config/pipeline-registry.js';
import type { PipelineLoader } from './config/pipeline-loader.js';
import type { PipelineRegistry } from './config/pipeline-registry.js';
import { logLoadProblems } from './config/load-report.js';
import type { Logger } from './logging/logger.js';
import type { ObservabilityPort } from './observability/observability.js';
import type { ControlServerPort, ResourceMonitorPort, SupervisorPort } from './ports.js';
import type { DaemonPaths } from '../shared/paths.js';

export type DaemonState = 'starting' | 'running' | 'draining' | 'stopped';

export interface DaemonParts {
  readonly paths: DaemonPaths;
  readonly settings: DaemonSettings;
  readonly logger: Logger;
  readonly registry: PipelineRegistry;
  /** Reads the pipelines directory (with connections.yaml) and records which file defines each pipeline. */
  readonly loader: PipelineLoader;
  readonly supervisor: SupervisorPort;
  readonly control: ControlServerPort | null;
  readonly resources: ResourceMonitorPort | null;
  /**
   * Start-up reconciliation with the destinations: runs after the socket is open, so the
   * daemon answers operators while a destination replays its log, and before any run is scheduled.
   */
  readonly reconcile: () => Promise<void>;
  /** Releases what the composition root opened (state store, lock…), in reverse order. */
  readonly release: () => Promise<void>;
  /**
   * systemd notifications, the HTTP endpoint and freshness checks: opened with the control
   * socket, `ready()` once reconciled, `stopping()` when the drain begins, closed after it.
   */
  readonly observability?: ObservabilityPort | null;
}

export class Daemon {
  readonly startedAt: Date;
  #state: DaemonState = 'starting';
  readonly #parts: DaemonParts;
  #stopping: Promise<void> | undefined;
  #reloading: Promise<ReloadDiff> | undefined;

  constructor(parts: DaemonParts, startedAt: Date) {
    this.#parts = parts;
    this.startedAt = startedAt;
  }

  get state(): DaemonState {
    return this.#state;
  }

  /** Schedules the loaded pipelines and opens the control socket. */
  async start(): Promise<void> {
    if (this.#state !== 'starting')
      throw new EtlError('ILLEGAL_STATE', `cannot start: daemon is ${this.#state}`);
    const { supervisor, registry, control, resources, logger, observability } = this.#parts;
    supervisor.setPipelines(registry.active, registry.invalid);
    observability?.setPipelines(registry.active);
    await control?.start();
    await observability?.open();
    await this.#parts.reconcile();
    supervisor.start();
    resources?.start(() => undefined);
    this.#state = 'running';
    logger.notice(
      `etld running: ${registry.active.length} pipeline(s) loaded, ${registry.invalid.length} invalid, socket ${this.#parts.paths.socketPath}`,
    );
    observability?.ready();
  }

  /** Re-reads the pipelines directory; broken edits keep the last good version (reported). */
  reload(): Promise<ReloadDiff> {
    if (this.#state !== 'running') {
      return Promise.reject(new EtlError('ILLEGAL_STATE', `cannot reload: daemon is ${this.#state}`));
    }
    // Two reloads at once would race on the registry; the second waits for the first.
    const previous = this.#reloading ?? Promise.resolve(undefined);
    const next = previous.then(async () => {
      const { registry, supervisor, logger, loader } = this.#parts;
      const diff = registry.apply(await loader.load());
      loader.remember(registry.active);
      supervisor.setPipelines(registry.active, registry.invalid);
      this.#parts.observability?.setPipelines(registry.active);
      logLoadProblems(registry, logger);
      logger.notice(
        `reloaded pipelines: added [${diff.added.join(', ')}], changed [${diff.changed.join(', ')}], removed [${diff.removed.join(', ')}], invalid [${diff.invalid.join(', ')}]`,
      );
      return diff;
    });
    this.#reloading = next.catch(() => undefined) as Promise<never>;
    return next;
  }

  /**
   * Drains: no new runs, running runs get `graceMs`, then are cancelled; then everything is closed.
   * Safe to call more than once (a second SIGTERM waits for the same drain).
   */
  stop(graceMs: number = this.#parts.settings.defaults.grace_period): Promise<void> {
    if (this.#stopping) return this.#stopping;
    this.#state = 'draining';
    const { supervisor, control, resources, logger, release, observability } = this.#parts;
    observability?.stopping();
    logger.notice(`draining: no new runs; running runs have ${Math.round(graceMs / 1000)}s to finish`);
    this.#stopping = (async () => {
      try {
        await supervisor.drain(graceMs);
      } finally {
        resources?.stop();
        await control?.close();
        await observability?.close();
        await release();
        this.#state = 'stopped';
        logger.notice('etld stopped');
      }
    })();
    return this.#stopping;
  }
}
