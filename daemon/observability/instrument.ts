/**
 * Timing wrappers that feed the metrics without touching the parts they measure: the state store
 * (every call's latency, by method name) and the per-source-host governor (waits for a slot).
 * The composition root hands the wrapped objects to everyone else.
 */
import type { SourceGovernor } from '../engine/engine.js';
import type { StateStore } from '../state/store.js';
import type { EtldMetrics } from './metrics.js';

/** Monotonic milliseconds (performance.now). */
type Millis = () => number;

/**
 * The store, with each method call timed under `operation=<method>`. The store is synchronous
 * (better-sqlite3), so a call's duration is exactly the time it held the event loop.
 */
export function instrumentStore(
  store: StateStore,
  metrics: Pick<EtldMetrics, 'storeCall'>,
  now: Millis = () => performance.now(),
): StateStore {
  const wrapped = new Map<PropertyKey, unknown>();
  return new Proxy(store, {
    get(target, property) {
      const value: unknown = Reflect.get(target, property, target);
      if (typeof value !== 'function' || typeof property !== 'string' || property === 'constructor')
        return value;
      const known = wrapped.get(property);
      if (known !== undefined) return known;
      const method = value as (...args: unknown[]) => unknown;
      const timed = (...args: unknown[]): unknown => {
        const started = now();
        let failed = true;
        try {
          const result = method.apply(target, args);
          failed = false;
          return result;
        } finally {
          metrics.storeCall(property, (now() - started) / 1000, failed);
        }
      };
      wrapped.set(property, timed);
      return timed;
    },
  });
}

/** The governor, counting each wait for a slot and how long it lasted, per source host. */
export function instrumentGovernor(
  governor: SourceGovernor,
  metrics: Pick<EtldMetrics, 'slotWait' | 'slotWaited'>,
  now: Millis = () => performance.now(),
): SourceGovernor {
  return {
    acquire(hostKey, signal, onWait) {
      let waitingSince: number | null = null;
      const waited = (): void => {
        if (waitingSince !== null) metrics.slotWaited(hostKey, (now() - waitingSince) / 1000);
        waitingSince = null;
      };
      return governor
        .acquire(hostKey, signal, () => {
          waitingSince = now();
          metrics.slotWait(hostKey);
          onWait?.();
        })
        .then(
          (release) => {
            waited();
            return release;
          },
          (error: unknown) => {
            waited();
            throw error;
          },
        );
    },
  };
}
