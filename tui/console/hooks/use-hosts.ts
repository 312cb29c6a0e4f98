/**
 * `:hosts`: the fleet's daemons, fetched when the view opens, when the client reconnects and on
 * every tick of the fleet-wide lists (periodically and after run changes: a run that starts or
 * ends changes what a host runs). Part of useDaemon, the only module family that talks to the daemon.
 */
import { useEffect, type RefObject } from 'react';
import type { DaemonClient } from '../../../shared/client/client.js';
import { describeError } from '../format/text.js';
import type { ViewAction } from '../state/view-state.js';

export interface UseHostsOptions {
  readonly clientRef: RefObject<DaemonClient | null>;
  readonly dispatchRef: RefObject<(action: ViewAction) => void>;
  /** Whether `:hosts` is on screen. */
  readonly open: boolean;
  /** Bumped on every (re)connect. */
  readonly epoch: number;
  /** Bumped when the lists on screen should be fetched again. */
  readonly tick: number;
}

export function useHosts(options: UseHostsOptions): void {
  const { clientRef, dispatchRef, open, epoch, tick } = options;
  useEffect(() => {
    const current = clientRef.current;
    if (!open || current === null || current.state !== 'connected') return;
    let cancelled = false;
    current.call('hosts').then(
      (result) => {
        if (!cancelled) dispatchRef.current({ type: 'hostsLoaded', result });
      },
      (error: unknown) => {
        if (!cancelled) dispatchRef.current({ type: 'hostsFailed', error: describeError(error) });
      },
    );
    return () => {
      cancelled = true;
    };
  }, [clientRef, dispatchRef, open, epoch, tick]);
}
