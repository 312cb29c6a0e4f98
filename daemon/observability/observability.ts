/**
 * The daemon's face to operators' tooling, as one part of the lifecycle (daemon.ts calls it):
 *   open()      start-up, before reconciliation: the HTTP endpoint listens (/healthz answers,
 *               /readyz says "starting")
 *   ready()     the control socket listens and the state is reconciled: READY=1 to systemd,
 *               /readyz 200, freshness checks begin
 *   stopping()  the drain began: STOPPING=1, /readyz 503
 *   close()     after the drain, before the state store closes
 * Between them it keeps systemd's STATUS= line current (pipelines, active runs, stale ones) from
 * the `pipelines.changed` events, at most once a second.
 */
import type { PipelineSummary } from '../../shared/protocol.js';
import type { LoadedPipeline } from '../../shared/config/pipeline-files.js';
import type { EventBus } from '../events/event-bus.js';
import type { FreshnessMonitor } from './freshness.js';
import type { HttpEndpoint, Readiness } from './http-endpoint.js';
import type { ServiceNotifier } from './sd-notify.js';

export interface ObservabilityPort {
  setPipelines(valid: readonly LoadedPipeline[]): void;
  open(): Promise<void>;
  ready(): void;
  stopping(): void;
  close(): Promise<void>;
}

export interface ObservabilityParts {
  readonly notifier: ServiceNotifier;
  readonly freshness: FreshnessMonitor;
  readonly events: EventBus;
  readonly summaries: () => readonly PipelineSummary[];
  /** Throws when the state store cannot answer. */
  readonly pingStore: () => void;
}

type Phase = 'starting' | 'running' | 'draining' | 'stopped';

/** systemd's STATUS= line: what `systemctl status etld` shows under the unit. */
export function statusLine(phase: Phase, pipelines: readonly PipelineSummary[]): string {
  const count = (test: (p: PipelineSummary) => boolean): number => pipelines.filter(test).length;
  const active = count((p) => p.state === 'running' || p.state === 'waiting');
  const retrying = count((p) => p.state === 'retrying');
  const extras = [
    [count((p) => p.state === 'invalid'), 'invalid'],
    [count((p) => p.paused), 'paused'],
    [count((p) => p.state === 'failed'), 'failed'],
    [count((p) => p.freshness?.stale === true), 'stale'],
  ]
    .filter(([n]) => (n as number) > 0)
    .map(([n, what]) => `${n} ${what}`);
  const head = `${pipelines.length} pipeline${pipelines.length === 1 ? '' : 's'}${extras.length > 0 ? ` (${extras.join(', ')})` : ''}`;
  const runs = `${active} run${active === 1 ? '' : 's'} active${retrying > 0 ? `, ${retrying} waiting to retry` : ''}`;
  switch (phase) {
    case 'starting':
      return `starting: ${head}, reconciling with destinations`;
    case 'running':
      return `${head}; ${runs}`;
    case 'draining':
      return `draining: ${runs}`;
    case 'stopped':
      return 'stopped';
  }
}

export class Observability implements ObservabilityPort {
  readonly #p: ObservabilityParts;
  #phase: Phase = 'starting';
  #lastStatus = '';
  #statusTimer: NodeJS.Timeout | null = null;
  #statusAt = 0;
  #unsubscribe: (() => void) | null = null;
  #http: HttpEndpoint | null = null;

  constructor(parts: ObservabilityParts) {
    this.#p = parts;
  }

  /** The HTTP endpoint, built with {@link readiness} wired in; none without `http:` in etld.yaml. */
  attachHttp(http: HttpEndpoint | null): void {
    this.#http = http;
  }

  /** For the HTTP endpoint's /readyz. */
  readiness(): Readiness {
    if (this.#phase !== 'running') return { ready: false, reason: this.#phase };
    try {
      this.#p.pingStore();
      return { ready: true };
    } catch (error) {
      return {
        ready: false,
        reason: `state store: ${error instanceof Error ? error.message : String(error)}`,
      };
    }
  }

  setPipelines(valid: readonly LoadedPipeline[]): void {
    this.#p.freshness.setPipelines(valid);
  }

  async open(): Promise<void> {
    await this.#http?.start();
    this.#p.notifier.status(statusLine('starting', this.#p.summaries()));
  }

  ready(): void {
    this.#phase = 'running';
    this.#p.freshness.start(this.#p.events);
    this.#unsubscribe = this.#p.events.on('pipelines.changed', () => this.#scheduleStatus());
    this.#lastStatus = statusLine('running', this.#p.summaries());
    this.#statusAt = Date.now();
    this.#p.notifier.ready(this.#lastStatus);
  }

  stopping(): void {
    if (this.#phase === 'draining' || this.#phase === 'stopped') return;
    this.#phase = 'draining';
    this.#lastStatus = this.#statusLine('draining') ?? 'draining';
    this.#statusAt = Date.now();
    this.#p.notifier.stopping(this.#lastStatus);
  }

  async close(): Promise<void> {
    this.#phase = 'stopped';
    this.#unsubscribe?.();
    if (this.#statusTimer !== null) clearTimeout(this.#statusTimer);
    this.#statusTimer = null;
    this.#p.freshness.stop();
    await this.#http?.close();
  }

  /**
   * The STATUS= line, or null while the summaries cannot be read (a PostgreSQL state store that
   * is unreachable): systemd keeps the last line, and the outage is logged where it is noticed.
   */
  #statusLine(phase: Phase): string | null {
    try {
      return statusLine(phase, this.#p.summaries());
    } catch {
      return null;
    }
  }

  /** STATUS= at most once a second, the latest state winning; unchanged lines are not resent. */
  #scheduleStatus(): void {
    if (this.#statusTimer !== null) return;
    const wait = Math.max(0, this.#statusAt + 1000 - Date.now());
    this.#statusTimer = setTimeout(() => {
      this.#statusTimer = null;
      if (this.#phase !== 'running' && this.#phase !== 'draining') return;
      const line = this.#statusLine(this.#phase);
      if (line === null || line === this.#lastStatus) return;
      this.#lastStatus = line;
      this.#statusAt = Date.now();
      this.#p.notifier.status(line);
    }, wait);
    this.#statusTimer.unref();
  }
}
