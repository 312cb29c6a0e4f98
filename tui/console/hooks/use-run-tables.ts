/**
 * The detail view's tables of a multi-table pipeline: fetched with `tables` when the view opens
 * or the client reconnects, and again after `run.state` and `run.progress` events of the pipeline
 * or of one of its tables (whose runs carry the state name `<pipeline>/<table>`). Progress events
 * arrive several times a second per table, so refetches are spaced `intervalMs` apart at least.
 */
import { useEffect, useRef, useState, type RefObject } from 'react';
import type { DaemonClient } from '../../../shared/client/client.js';
import type { ViewAction } from '../state/view-state.js';

export interface UseRunTablesOptions {
  readonly clientRef: RefObject<DaemonClient | null>;
  readonly dispatchRef: RefObject<(action: ViewAction) => void>;
  /** The pipeline whose details are on screen, if any. */
  readonly detailPipeline: string | null;
  /** Bumped on every (re)connect. */
  readonly epoch: number;
  /** Least time between two refetches caused by events. */
  readonly intervalMs?: number;
}

/** True when an event of `eventPipeline` is about `pipeline`: its own run or one of its tables'. */
export function concernsPipeline(eventPipeline: string, pipeline: string): boolean {
  return eventPipeline === pipeline || eventPipeline.startsWith(`${pipeline}/`);
}

export function useRunTables(options: UseRunTablesOptions): void {
  const { clientRef, dispatchRef, detailPipeline, epoch } = options;
  const intervalMs = options.intervalMs ?? 1000;
  const [tick, setTick] = useState(0);
  const detailRef = useRef(detailPipeline);
  detailRef.current = detailPipeline;

  // Events of the pipeline on screen ask for a refetch, at most one per interval.
  useEffect(() => {
    const current = clientRef.current;
    if (current === null) return;
    let timer: NodeJS.Timeout | null = null;
    const onEvent = (event: { readonly pipeline: string }): void => {
      const open = detailRef.current;
      if (open === null || timer !== null || !concernsPipeline(event.pipeline, open)) return;
      timer = setTimeout(() => {
        timer = null;
        setTick((t) => t + 1);
      }, intervalMs);
    };
    const off = [current.onEvent('run.state', onEvent), current.onEvent('run.progress', onEvent)];
    return () => {
      for (const stop of off) stop();
      if (timer !== null) clearTimeout(timer);
    };
  }, [clientRef, epoch, intervalMs]);

  useEffect(() => {
    const current = clientRef.current;
    if (detailPipeline === null || current === null || current.state !== 'connected') return;
    let cancelled = false;
    const pipeline = detailPipeline;
    current.call('tables', { pipeline }).then(
      (tables) => {
        if (!cancelled) dispatchRef.current({ type: 'detailTables', pipeline, tables });
      },
      // The rest of the detail view says what is wrong with the daemon; a table view that
      // cannot be had is left as it was.
      () => undefined,
    );
    return () => {
      cancelled = true;
    };
  }, [clientRef, dispatchRef, detailPipeline, epoch, tick]);
}
