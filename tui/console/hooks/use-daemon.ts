/**
 * The only module that talks to the daemon. It owns the client's lifecycle (connect, keep
 * reconnecting while the daemon is away), feeds events through the ActionBatcher, fetches what
 * the open screen needs and carries out queued commands.
 */
import { useCallback, useEffect, useRef, useState } from 'react';
import type { DaemonClient } from '../../../shared/client/client.js';
import { ActionBatcher } from '../state/action-batcher.js';
import type { Command } from '../state/command.js';
import { describeError } from '../format/text.js';
import { sendCommand } from './send-command.js';
import { cursorOf } from '../state/command.js';
import { useFleetLists } from './use-fleet-lists.js';
import { useHosts } from './use-hosts.js';
import { useRunTables } from './use-run-tables.js';
import type { ListRequest } from '../state/record-list.js';
import type { ViewAction } from '../state/view-state.js';

export interface UseDaemonOptions {
  /**
   * Opens a client. Called again, every `retryDelayMs` for as long as the console runs, whenever
   * a client gives up (`disconnected`/`closed`) or cannot connect: an operator's console should
   * outlive any daemon restart, however long.
   */
  readonly connect: () => Promise<DaemonClient>;
  readonly dispatch: (action: ViewAction) => void;
  /** The pipeline whose details are on screen, if any. */
  readonly detailPipeline: string | null;
  /** The pipeline whose log pane is open, EVERY_PIPELINE for `:logs`, null when none is. */
  readonly logPipeline: string | null;
  /** The fleet-wide list on screen (`:runs`, `:alerts`), if any, as the daemon is asked for it. */
  readonly list: ListRequest | null;
  /** The pipeline whose file `y` shows, if any. */
  readonly yamlPipeline: string | null;
  /** Whether `:hosts` is on screen. */
  readonly hostsOpen?: boolean;
  /** The pipeline of the backfill form while its cursor column is not known yet. */
  readonly backfillPipeline: string | null;
  readonly clock: () => number;
  /** Longest a daemon event waits before it is rendered. */
  readonly flushIntervalMs?: number;
  /** Wait before calling `connect` again after it failed or a client closed. */
  readonly retryDelayMs?: number;
  /** Safety-net refresh of list and info, for anything an event did not cover. */
  readonly refreshIntervalMs?: number;
}

export const LOG_BACKLOG_LINES = 200;
/** What `logPipeline` is for the log pane of every pipeline (pipeline names never contain `*`). */
export const EVERY_PIPELINE = '*';
const SUBSCRIBE_TOPICS = ['runs', 'progress', 'pipelines', 'resources'] as const;

/** Returns the function that carries out a queued command. */
export function useDaemon(options: UseDaemonOptions): (command: Command) => void {
  const { connect, detailPipeline, logPipeline, list, yamlPipeline } = options;
  const flushMs = options.flushIntervalMs ?? 150;
  const retryMs = options.retryDelayMs ?? 1000;
  const refreshMs = options.refreshIntervalMs ?? 15_000;

  const dispatchRef = useRef(options.dispatch);
  dispatchRef.current = options.dispatch;
  const clockRef = useRef(options.clock);
  clockRef.current = options.clock;
  const detailRef = useRef(detailPipeline);
  detailRef.current = detailPipeline;
  const logRef = useRef(logPipeline);
  logRef.current = logPipeline;

  const clientRef = useRef<DaemonClient | null>(null);
  const refreshRef = useRef<(pipeline: string | null) => void>(() => undefined);
  /** Pipelines whose logs this connection already follows: following twice would double lines. */
  const followedRef = useRef(new Set<string>());
  /** Bumped on every (re)connect so screen fetches run again. */
  const [epoch, setEpoch] = useState(0);
  /** Bumped when the detail view should be fetched again (a run of that pipeline changed). */
  const [detailTick, setDetailTick] = useState(0);
  /** Bumped when a fleet-wide list should be fetched again (a run changed, or periodically). */
  const [listTick, setListTick] = useState(0);

  useEffect(() => {
    let disposed = false;
    let client: DaemonClient | null = null;
    let unsubscribe: (() => void)[] = [];
    let retryTimer: NodeJS.Timeout | null = null;
    let refreshTimer: NodeJS.Timeout | null = null;
    const dispatch = (action: ViewAction): void => dispatchRef.current(action);
    const batcher = new ActionBatcher((actions) => dispatch({ type: 'batch', actions }), flushMs);

    const loadOverview = async (current: DaemonClient): Promise<void> => {
      const [pipelines, info] = await Promise.all([current.call('list'), current.call('info')]);
      if (disposed || clientRef.current !== current) return;
      batcher.push({ type: 'pipelines', pipelines });
      batcher.push({ type: 'info', info, at: clockRef.current() });
      batcher.flushNow();
    };

    const reportFailure = (what: string) => (error: unknown) => {
      if (!disposed)
        dispatch({ type: 'notice', notice: { text: `${what}: ${describeError(error)}`, tone: 'error' } });
    };

    // Coalesces refreshes triggered by run events into one list call per second at most.
    let refreshPending = false;
    refreshRef.current = (pipeline) => {
      if (pipeline !== null && pipeline === detailRef.current) setDetailTick((t) => t + 1);
      if (refreshPending) return;
      refreshPending = true;
      refreshTimer = setTimeout(() => {
        refreshPending = false;
        setListTick((t) => t + 1);
        const current = clientRef.current;
        if (current?.state === 'connected') loadOverview(current).catch(reportFailure('refresh failed'));
      }, 1000);
    };

    const onConnected = (current: DaemonClient): void => {
      followedRef.current = new Set();
      dispatch({ type: 'role', role: current.role });
      dispatch({ type: 'connection', state: 'connected', detail: null });
      setEpoch((e) => e + 1);
      current
        .call('subscribe', { topics: [...SUBSCRIBE_TOPICS] })
        .then(() => loadOverview(current))
        .catch(reportFailure('loading pipelines failed'));
    };

    const retry = (): void => {
      if (disposed || retryTimer !== null) return;
      retryTimer = setTimeout(() => {
        retryTimer = null;
        establish();
      }, retryMs);
    };

    const attach = (current: DaemonClient): void => {
      unsubscribe = [
        current.onEvent('run.state', (event) => {
          batcher.push({ type: 'runState', event });
          refreshRef.current(event.pipeline);
        }),
        current.onEvent('run.progress', (event) => batcher.push({ type: 'progress', event })),
        current.onEvent('pipelines.changed', (event) =>
          batcher.push({ type: 'pipelines', pipelines: event.pipelines }),
        ),
        current.onEvent('resources', (resources) => batcher.push({ type: 'resources', resources })),
        current.onEvent('log', (line) => {
          const open = logRef.current;
          if (open === EVERY_PIPELINE) {
            batcher.push({ type: 'logLines', pipeline: null, lines: [line], replace: false });
          } else if (line.pipeline !== null && line.pipeline === open) {
            batcher.push({ type: 'logLines', pipeline: line.pipeline, lines: [line], replace: false });
          }
        }),
        current.onState((state, detail) => {
          if (disposed || clientRef.current !== current) return;
          switch (state) {
            case 'connected':
              onConnected(current);
              return;
            case 'connecting':
              // The client is reconnecting by itself after losing the daemon.
              dispatch({ type: 'connection', state: 'disconnected', detail });
              return;
            case 'disconnected':
            case 'closed':
              // The client gave up; this hook never does while the console is open.
              dispatch({ type: 'connection', state: 'disconnected', detail });
              detachClient();
              retry();
              return;
          }
        }),
      ];
    };

    const detachClient = (): void => {
      for (const off of unsubscribe) off();
      unsubscribe = [];
      const old = client;
      client = null;
      clientRef.current = null;
      if (old !== null) old.close().catch(() => undefined);
    };

    let firstAttempt = true;
    const establish = (): void => {
      // Later attempts keep showing "disconnected" with the last reason instead of flickering.
      if (firstAttempt) dispatch({ type: 'connection', state: 'connecting', detail: null });
      firstAttempt = false;
      connect().then(
        (current) => {
          if (disposed) {
            current.close().catch(() => undefined);
            return;
          }
          client = current;
          clientRef.current = current;
          attach(current);
          if (current.state === 'connected') onConnected(current);
          else dispatch({ type: 'connection', state: 'disconnected', detail: null });
        },
        (error: unknown) => {
          if (disposed) return;
          dispatch({ type: 'connection', state: 'disconnected', detail: describeError(error) });
          retry();
        },
      );
    };

    establish();
    const periodic = setInterval(() => {
      const current = clientRef.current;
      if (current?.state === 'connected') loadOverview(current).catch(reportFailure('refresh failed'));
      setListTick((t) => t + 1);
    }, refreshMs);

    return () => {
      disposed = true;
      clearInterval(periodic);
      if (retryTimer !== null) clearTimeout(retryTimer);
      if (refreshTimer !== null) clearTimeout(refreshTimer);
      batcher.dispose();
      detachClient();
    };
  }, [connect, flushMs, retryMs, refreshMs]);

  // Detail view: status, history and the why-explanation, again after each run change (the
  // tables of a multi-table pipeline: use-run-tables.ts).
  useEffect(() => {
    const current = clientRef.current;
    if (detailPipeline === null || current === null || current.state !== 'connected') return;
    let cancelled = false;
    const pipeline = detailPipeline;
    Promise.all([
      current.call('status', { pipeline }),
      current.call('history', { pipeline, limit: 20 }),
      current.call('why', { pipeline }).then(
        (why) => why.lines,
        () => null,
      ),
    ]).then(
      ([status, history, why]) => {
        if (!cancelled)
          dispatchRef.current({ type: 'detailLoaded', pipeline, status, history, why: why ?? status.why });
      },
      (error: unknown) => {
        if (!cancelled) dispatchRef.current({ type: 'detailFailed', pipeline, error: describeError(error) });
      },
    );
    return () => {
      cancelled = true;
    };
  }, [detailPipeline, epoch, detailTick]);

  // Log pane: the recent backlog, then live lines arrive as `log` events. Leaving the pane ends
  // the follow (the protocol ends follows only with `unsubscribe`, so the subscription is renewed)
  // so the daemon stops sending lines nobody reads.
  useEffect(() => {
    const current = clientRef.current;
    if (logPipeline === null || current === null || current.state !== 'connected') return;
    let cancelled = false;
    const pipeline = logPipeline;
    const follow = !followedRef.current.has(pipeline);
    followedRef.current.add(pipeline);
    const every = pipeline === EVERY_PIPELINE;
    const viewPipeline = every ? null : pipeline;
    current.call('logs', { ...(every ? {} : { pipeline }), lines: LOG_BACKLOG_LINES, follow }).then(
      (result) => {
        if (!cancelled)
          dispatchRef.current({
            type: 'logLines',
            pipeline: viewPipeline,
            lines: result.lines,
            replace: true,
          });
      },
      (error: unknown) => {
        if (follow) followedRef.current.delete(pipeline);
        if (!cancelled)
          dispatchRef.current({ type: 'logsFailed', pipeline: viewPipeline, error: describeError(error) });
      },
    );
    return () => {
      cancelled = true;
      if (clientRef.current !== current || current.state !== 'connected' || followedRef.current.size === 0)
        return;
      followedRef.current = new Set();
      current
        .call('unsubscribe')
        .then(() => current.call('subscribe', { topics: [...SUBSCRIBE_TOPICS] }))
        .then(() => refreshRef.current(null))
        .catch((error: unknown) => {
          dispatchRef.current({
            type: 'notice',
            notice: { text: `renewing the subscription failed: ${describeError(error)}`, tone: 'error' },
          });
        });
    };
  }, [logPipeline, epoch]);

  useFleetLists({ clientRef, dispatchRef, list, yamlPipeline, epoch, listTick });
  useHosts({ clientRef, dispatchRef, open: options.hostsOpen === true, epoch, tick: listTick });
  useRunTables({ clientRef, dispatchRef, detailPipeline, epoch });

  // The backfill form names the cursor column: its pipeline's status has the configuration.
  const { backfillPipeline } = options;
  useEffect(() => {
    const current = clientRef.current;
    if (backfillPipeline === null || current === null || current.state !== 'connected') return;
    let cancelled = false;
    const pipeline = backfillPipeline;
    current.call('status', { pipeline }).then(
      (status) => {
        if (!cancelled) dispatchRef.current({ type: 'backfillCursor', pipeline, cursor: cursorOf(status) });
      },
      () => undefined,
    );
    return () => {
      cancelled = true;
    };
  }, [backfillPipeline, epoch]);

  return useCallback((command: Command) => {
    if (command.kind === 'quit') return;
    sendCommand(clientRef.current, command, dispatchRef.current, (pipeline) => refreshRef.current(pipeline));
  }, []);
}
