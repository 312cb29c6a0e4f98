/**
 * The data of the palette's lists and of `y`: `:runs` and `:alerts` are fetched on opening, after
 * run changes (coalesced by the caller into `listTick`) and periodically; a pipeline's file when
 * `y` opens it. Part of useDaemon, the only module family that talks to the daemon.
 */
import { useEffect, type RefObject } from 'react';
import type { DaemonClient } from '../../../shared/client/client.js';
import type { ListName, ViewAction } from '../state/view-state.js';
import { describeError } from '../format/text.js';

/** Runs and alerts the fleet-wide lists show: enough to scroll back through a bad night. */
export const LIST_LIMIT = 500;

export interface FleetListOptions {
  readonly clientRef: RefObject<DaemonClient | null>;
  readonly dispatchRef: RefObject<(action: ViewAction) => void>;
  readonly listView: ListName | null;
  readonly yamlPipeline: string | null;
  /** Bumped on every (re)connect. */
  readonly epoch: number;
  /** Bumped when the list on screen should be fetched again. */
  readonly listTick: number;
}

export function useFleetLists(options: FleetListOptions): void {
  const { clientRef, dispatchRef, listView, yamlPipeline, epoch, listTick } = options;

  // `:runs` and `:alerts`: fetched on opening, after run changes (coalesced) and periodically.
  useEffect(() => {
    const current = clientRef.current;
    if (listView === null || current === null || current.state !== 'connected') return;
    let cancelled = false;
    const failed = (error: unknown): void => {
      if (!cancelled)
        dispatchRef.current({ type: 'listFailed', list: listView, error: describeError(error) });
    };
    if (listView === 'runs') {
      current.call('runs', { limit: LIST_LIMIT }).then((runs) => {
        if (!cancelled) dispatchRef.current({ type: 'runsLoaded', runs });
      }, failed);
    } else {
      current.call('alerts', { limit: LIST_LIMIT }).then((alerts) => {
        if (!cancelled) dispatchRef.current({ type: 'alertsLoaded', alerts });
      }, failed);
    }
    return () => {
      cancelled = true;
    };
  }, [listView, epoch, listTick]);

  // `y`: the pipeline's file as the daemon reads it from disk.
  useEffect(() => {
    const current = clientRef.current;
    if (yamlPipeline === null || current === null || current.state !== 'connected') return;
    let cancelled = false;
    const pipeline = yamlPipeline;
    current.call('pipeline_file', { pipeline }).then(
      (file) => {
        if (!cancelled) dispatchRef.current({ type: 'yamlLoaded', pipeline, file });
      },
      (error: unknown) => {
        if (!cancelled) dispatchRef.current({ type: 'yamlFailed', pipeline, error: describeError(error) });
      },
    );
    return () => {
      cancelled = true;
    };
  }, [yamlPipeline, epoch]);
}
