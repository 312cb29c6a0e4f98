/**
 * Coalesces the daemon's event stream into at most one reducer batch per interval, so hundreds
 * of pipelines and fast progress/log streams cost one render per tick instead of one per event.
 * Only the newest progress per pipeline, list and resources sample survive a tick.
 */
import type { ViewAction } from './view-state.js';

export interface Timers {
  readonly setTimeout: (callback: () => void, ms: number) => unknown;
  readonly clearTimeout: (handle: unknown) => void;
}

const NODE_TIMERS: Timers = {
  setTimeout: (callback, ms) => setTimeout(callback, ms),
  clearTimeout: (handle) => clearTimeout(handle as NodeJS.Timeout),
};

const ACTIVE = new Set(['queued', 'running']);

export class ActionBatcher {
  readonly #flush: (actions: readonly ViewAction[]) => void;
  readonly #intervalMs: number;
  readonly #timers: Timers;
  #ordered: ViewAction[] = [];
  #pipelines: ViewAction | null = null;
  #resources: ViewAction | null = null;
  #progress = new Map<string, ViewAction>();
  #timer: unknown = null;
  #disposed = false;

  constructor(
    flush: (actions: readonly ViewAction[]) => void,
    intervalMs: number,
    timers: Timers = NODE_TIMERS,
  ) {
    this.#flush = flush;
    this.#intervalMs = intervalMs;
    this.#timers = timers;
  }

  push(action: ViewAction): void {
    if (this.#disposed) return;
    switch (action.type) {
      case 'pipelines':
        this.#pipelines = action;
        break;
      case 'resources':
        this.#resources = action;
        break;
      case 'progress':
        this.#progress.set(action.event.pipeline, action);
        break;
      case 'runState':
        // Progress queued before the run ended would resurrect its bars.
        if (!ACTIVE.has(action.event.status)) this.#progress.delete(action.event.pipeline);
        this.#ordered.push(action);
        break;
      case 'logLines': {
        const previous = this.#ordered.at(-1);
        if (previous?.type === 'logLines' && previous.pipeline === action.pipeline && !action.replace) {
          this.#ordered[this.#ordered.length - 1] = {
            ...previous,
            lines: [...previous.lines, ...action.lines],
          };
        } else {
          this.#ordered.push(action);
        }
        break;
      }
      default:
        this.#ordered.push(action);
    }
    this.#schedule();
  }

  /** Delivers everything pending now. */
  flushNow(): void {
    if (this.#timer !== null) {
      this.#timers.clearTimeout(this.#timer);
      this.#timer = null;
    }
    const actions: ViewAction[] = [];
    if (this.#pipelines !== null) actions.push(this.#pipelines);
    actions.push(...this.#ordered, ...this.#progress.values());
    if (this.#resources !== null) actions.push(this.#resources);
    this.#pipelines = null;
    this.#resources = null;
    this.#ordered = [];
    this.#progress = new Map();
    if (actions.length > 0) this.#flush(actions);
  }

  dispose(): void {
    this.#disposed = true;
    if (this.#timer !== null) this.#timers.clearTimeout(this.#timer);
    this.#timer = null;
  }

  #schedule(): void {
    if (this.#timer !== null) return;
    this.#timer = this.#timers.setTimeout(() => {
      this.#timer = null;
      this.flushNow();
    }, this.#intervalMs);
  }
}
