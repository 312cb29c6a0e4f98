/**
 * The data of the palette's lists and of `y`: `:runs` and `:alerts` are fetched page by page —
 * the newest page on opening, after run changes (coalesced by the caller into `listTick`),
 * periodically and when the daemon filter changes (after a pause in typing); the next page when
 * the list asks for it (`loadingAfter`). A pipeline's file when `y` opens it. Part of useDaemon,
 * the only module family that talks to the daemon.
 */
import { useEffect, useRef, type RefObject } from 'react';
import type { DaemonClient } from '../../../shared/client/client.js';
import type { ListName, ViewAction } from '../state/view-state.js';
import { filterParams, type ListRequest } from '../state/record-list.js';
import { describeError } from '../format/text.js';

/** Records a page brings: several screens, so scrolling seldom waits. */
export const LIST_PAGE = 200;
/** The most a refresh asks for at once (below the protocol's limits of `runs` and `alerts`). */
const REFRESH_MOST = { runs: 9_999, alerts: 4_999 } as const;
/** A new filter is sent once typing pauses this long. */
const FILTER_PAUSE_MS = 250;

export interface FleetListOptions {
  readonly clientRef: RefObject<DaemonClient | null>;
  readonly dispatchRef: RefObject<(action: ViewAction) => void>;
  readonly list: ListRequest | null;
  readonly yamlPipeline: string | null;
  /** Bumped on every (re)connect. */
  readonly epoch: number;
  /** Bumped when the list on screen should be fetched again. */
  readonly listTick: number;
}

/** One page of `name` after `after` (the newest for null), as the reducer takes it. */
async function fetchPage(
  client: DaemonClient,
  name: ListName,
  filter: string,
  after: string | null,
  limit: number,
): Promise<ViewAction> {
  // One more than wanted says whether there are more.
  const params = { limit: limit + 1, ...filterParams(filter) };
  const page = <T>(items: readonly T[]) => ({
    filter,
    after,
    items: items.slice(0, limit),
    more: items.length > limit,
  });
  if (name === 'runs') {
    const runs = await client.call('runs', { ...params, ...(after === null ? {} : { before: after }) });
    return { type: 'runsLoaded', page: page(runs) };
  }
  const alerts = await client.call('alerts', {
    ...params,
    ...(after === null ? {} : { before: Number(after) }),
  });
  return { type: 'alertsLoaded', page: page(alerts) };
}

export function useFleetLists(options: FleetListOptions): void {
  const { clientRef, dispatchRef, list, yamlPipeline, epoch, listTick } = options;
  const name = list?.name ?? null;
  const filter = list?.filter ?? '';
  const loadingAfter = list?.loadingAfter ?? null;
  const loadedRef = useRef(0);
  loadedRef.current = list?.loaded ?? 0;
  /** The daemon filter last asked for, so a changed one waits for a pause in typing. */
  const askedRef = useRef<string | null>(null);

  // The newest page (or as many records as are loaded): on opening, after run changes, periodically.
  useEffect(() => {
    const current = clientRef.current;
    if (name === null || current === null || current.state !== 'connected') return;
    let cancelled = false;
    const limit = Math.min(Math.max(loadedRef.current, LIST_PAGE), REFRESH_MOST[name]);
    const fetch = (): void => {
      askedRef.current = filter;
      fetchPage(current, name, filter, null, limit).then(
        (action) => {
          if (!cancelled) dispatchRef.current(action);
        },
        (error: unknown) => {
          if (!cancelled)
            dispatchRef.current({ type: 'listFailed', list: name, error: describeError(error) });
        },
      );
    };
    const typing = askedRef.current !== null && askedRef.current !== filter;
    const timer = typing ? setTimeout(fetch, FILTER_PAUSE_MS) : null;
    if (timer === null) fetch();
    return () => {
      cancelled = true;
      if (timer !== null) clearTimeout(timer);
    };
  }, [name, filter, epoch, listTick]);

  // The next page, when scrolling came near the end of what is loaded.
  useEffect(() => {
    const current = clientRef.current;
    if (name === null || loadingAfter === null || current === null || current.state !== 'connected') return;
    let cancelled = false;
    fetchPage(current, name, filter, loadingAfter, LIST_PAGE).then(
      (action) => {
        if (!cancelled) dispatchRef.current(action);
      },
      (error: unknown) => {
        if (!cancelled) dispatchRef.current({ type: 'listFailed', list: name, error: describeError(error) });
      },
    );
    return () => {
      cancelled = true;
    };
  }, [name, filter, loadingAfter, epoch]);

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
