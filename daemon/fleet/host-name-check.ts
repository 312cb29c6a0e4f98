/**
 * Before a daemon joins the fleet under its `fleet.host_name`: is another live daemon using that
 * name? Two daemons under one name would share its run leases (a lease is granted again to the
 * host already holding it), so both could run one pipeline at once. A row that looks alive is not
 * proof, though: this host's own previous process, killed less than a lease ago, left one too. The
 * difference is that a live daemon heartbeats every lease/3 and a dead one does not, so a live
 * looking row is watched for a little longer than one heartbeat interval before the name is taken.
 */
import { EtlError } from '../../shared/errors.js';
import type { SyncPgClient } from '../state/pg-sync-client.js';

interface NameRow extends Record<string, unknown> {
  pid: number;
  instance: string;
  beat: string;
  live: boolean;
}

export interface HostNameCheckOptions {
  readonly db: SyncPgClient;
  readonly host: string;
  readonly leaseMs: number;
  /** Told once when a live-looking row makes the check wait (the start-up log). */
  readonly onWait?: (message: string) => void;
}

const POLL_MS = 500;

function nameRow(db: SyncPgClient, host: string, leaseMs: number): NameRow | undefined {
  return db.query<NameRow>(
    `SELECT pid, instance, heartbeat_at::text AS beat,
            stopped_at IS NULL AND heartbeat_at > now() - $2::float8 * interval '1 millisecond' AS live
       FROM fleet_hosts WHERE host = $1`,
    [host, leaseMs],
  )[0];
}

/** Resolves when the name is free to take; rejects (CONFIG_INVALID) when a live daemon uses it. */
export async function checkHostNameFree(options: HostNameCheckOptions): Promise<void> {
  const { db, host, leaseMs } = options;
  const first = nameRow(db, host, leaseMs);
  if (first === undefined || !first.live) return;
  // One heartbeat interval (lease/3) and a margin for a heartbeat that is a little late.
  const watchMs = Math.ceil(leaseMs / 3) + 2_000;
  options.onWait?.(
    `fleet host name ${host} heartbeated ${first.beat} (pid ${first.pid}): waiting up to ${watchMs} ms to see whether that daemon is still running`,
  );
  for (let waited = 0; waited < watchMs; waited += POLL_MS) {
    await new Promise<void>((resolve) => setTimeout(resolve, POLL_MS));
    const now = nameRow(db, host, leaseMs);
    if (now === undefined || !now.live) return;
    if (now.beat !== first.beat || now.instance !== first.instance) {
      throw new EtlError(
        'CONFIG_INVALID',
        `fleet.host_name ${host} is in use by another running daemon (pid ${now.pid}, heartbeat ${now.beat}); give each host of the fleet its own fleet.host_name`,
      );
    }
  }
}
