/**
 * Run events for integrators: webhooks with `run_events: [run.started, run.succeeded, …]` get a
 * version-1 body (webhook-body.ts) for each matching `run.state` change of the pipelines routed to
 * them (default channels: every pipeline; others: pipelines naming them in `alerts.channels`).
 *
 * Decisions:
 * - Never in a run's way: the event is turned into a body synchronously (one store read) and
 *   queued; delivery happens later.
 * - One queue per webhook, delivered in order (a receiver sees run.started before run.succeeded),
 *   each message retried with backoff like alerts. A queue holds at most `maxQueue` messages; past
 *   that the oldest is dropped and counted, so a dead receiver cannot grow the heap.
 * - `run.started` is sent for every attempt (`attempt` says which); a failed attempt that is
 *   retried is `run.retrying`; `run.failed` is final.
 */
import type { EventData } from '../../shared/protocol.js';
import { runIdOf } from '../../shared/run-ids.js';
import type { EventBus } from '../events/event-bus.js';
import type { Logger } from '../logging/logger.js';
import type { StateStore } from '../state/store.js';
import { DeliveryError } from './http-post.js';
import type { RunEventPayload } from './webhook-body.js';
import type { WebhookChannel } from './webhook-channel.js';

export type RunEventOutcome = 'sent' | 'failed' | 'dropped';

export interface RunEventPublisherOptions {
  readonly webhooks: readonly WebhookChannel[];
  readonly store: Pick<StateStore, 'getRun' | 'attemptsOf'>;
  readonly host: string;
  readonly logger: Logger;
  readonly channelsFor?: (pipeline: string) => readonly string[] | undefined;
  readonly retry?: { readonly attempts: number; readonly delayMs: number; readonly maxDelayMs: number };
  readonly maxQueue?: number;
  readonly onOutcome?: (channel: string, event: string, outcome: RunEventOutcome) => void;
}

const EVENT_OF_STATUS: Readonly<Record<string, string>> = {
  running: 'run.started',
  succeeded: 'run.succeeded',
  failed: 'run.failed',
  retrying: 'run.retrying',
  cancelled: 'run.cancelled',
  interrupted: 'run.interrupted',
};

function seconds(from: string | null, to: string | null): number | null {
  if (from === null || to === null) return null;
  return Math.max(0, (Date.parse(to) - Date.parse(from)) / 1000);
}

interface Queue {
  readonly channel: WebhookChannel;
  readonly pending: RunEventPayload[];
  pumping: Promise<void> | null;
}

export class RunEventPublisher {
  readonly #o: RunEventPublisherOptions;
  readonly #queues: Queue[];
  readonly #stop = new AbortController();
  #unsubscribe: (() => void) | null = null;

  constructor(options: RunEventPublisherOptions) {
    this.#o = options;
    this.#queues = options.webhooks
      .filter((w) => w.runEvents.size > 0)
      .map((channel) => ({ channel, pending: [], pumping: null }));
  }

  start(events: EventBus): void {
    if (this.#queues.length === 0 || this.#unsubscribe !== null) return;
    this.#unsubscribe = events.on('run.state', (state) => {
      try {
        this.#publish(state);
      } catch (error) {
        this.#o.logger.error(
          `run event not published: ${error instanceof Error ? error.message : String(error)}`,
          { pipeline: state.pipeline },
        );
      }
    });
  }

  /** Waits until every queue is empty (tests; retries included). */
  async flush(): Promise<void> {
    while (this.#queues.some((q) => q.pumping !== null)) {
      await Promise.all(this.#queues.map((q) => q.pumping ?? Promise.resolve()));
    }
  }

  /** Stops: retries end at once, queued events are dropped (and counted). */
  async close(): Promise<void> {
    this.#unsubscribe?.();
    this.#stop.abort();
    await this.flush();
  }

  #publish(state: EventData<'run.state'>): void {
    const event = EVENT_OF_STATUS[state.status];
    if (event === undefined) return;
    const named = new Set(this.#o.channelsFor?.(state.pipeline) ?? []);
    const targets = this.#queues.filter(
      (q) => q.channel.runEvents.has(event) && (q.channel.isDefault || named.has(q.channel.name)),
    );
    if (targets.length === 0) return;
    const payload = this.#payload(state, event);
    for (const queue of targets) this.#enqueue(queue, payload);
  }

  #payload(state: EventData<'run.state'>, event: string): RunEventPayload {
    const row = this.#o.store.getRun(state.attempt_id);
    const first = row ? this.#o.store.attemptsOf(row.pipeline, row.sequence)[0] : undefined;
    const runStartedAt = first?.startedAt ?? row?.startedAt ?? null;
    const finishedAt = state.status === 'running' ? null : (row?.finishedAt ?? state.at);
    return {
      id: `${this.#o.host}:run:${state.attempt_id}:${state.status}`,
      event,
      occurredAt: state.at,
      run: {
        pipeline: state.pipeline,
        runId: row ? runIdOf(row.pipeline, row.sequence) : state.run_id,
        attempt: state.attempt,
        attemptId: state.attempt_id,
        status: state.status,
        trigger: row?.trigger ?? null,
        runStartedAt,
        attemptStartedAt: row?.startedAt ?? null,
        finishedAt,
        durationS: seconds(runStartedAt, finishedAt),
        attemptDurationS: seconds(row?.startedAt ?? null, finishedAt),
        rowsExtracted: row?.rowsExtracted ?? 0,
        rowsLoaded: row?.rowsLoaded ?? state.rows_loaded,
        rowsExcluded: row?.rowsExcluded ?? 0,
        bytes: row?.bytes ?? 0,
        error: state.error,
      },
    };
  }

  #enqueue(queue: Queue, payload: RunEventPayload): void {
    if (this.#stop.signal.aborted) return;
    const max = this.#o.maxQueue ?? 1000;
    while (queue.pending.length >= max) {
      const dropped = queue.pending.shift();
      if (dropped) this.#o.onOutcome?.(queue.channel.name, dropped.event, 'dropped');
      this.#o.logger.warning(
        `webhook ${queue.channel.name}: run event queue full (${max}); the oldest event was dropped`,
      );
    }
    queue.pending.push(payload);
    if (queue.pumping === null) {
      queue.pumping = this.#pump(queue)
        .catch((error: unknown) =>
          this.#o.logger.error(
            `webhook ${queue.channel.name}: run event delivery crashed: ${error instanceof Error ? error.message : String(error)}`,
          ),
        )
        .finally(() => {
          queue.pumping = null;
        });
    }
  }

  async #pump(queue: Queue): Promise<void> {
    const retry = this.#o.retry ?? { attempts: 5, delayMs: 5_000, maxDelayMs: 120_000 };
    for (let payload = queue.pending.shift(); payload; payload = queue.pending.shift()) {
      if (this.#stop.signal.aborted) {
        this.#o.onOutcome?.(queue.channel.name, payload.event, 'dropped');
        continue;
      }
      let lastError = '';
      let sent = false;
      for (let attempt = 1; attempt <= retry.attempts && !this.#stop.signal.aborted; attempt++) {
        try {
          await queue.channel.sendRunEvent(payload, this.#stop.signal);
          sent = true;
          break;
        } catch (error) {
          lastError = error instanceof Error ? error.message : String(error);
          if (error instanceof DeliveryError && error.permanent) break;
          if (attempt < retry.attempts)
            await sleep(Math.min(retry.delayMs * 2 ** (attempt - 1), retry.maxDelayMs), this.#stop.signal);
        }
      }
      this.#o.onOutcome?.(queue.channel.name, payload.event, sent ? 'sent' : 'failed');
      if (!sent)
        this.#o.logger.warning(
          `run event ${payload.event} not delivered: ${lastError || 'daemon stopping'}`,
          {
            pipeline: String(payload.run.pipeline),
          },
        );
    }
  }
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const done = (): void => {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
  });
}
