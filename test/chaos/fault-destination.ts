/**
 * Fault 4, destination unavailable at start-up, for the first `ms` of a step:
 * - PostgreSQL: the destination's fault proxy resets every new connection;
 * - Delta: the table directory is renamed away and a regular file put in its place (a missing
 *   mount), then put back;
 * - DuckDB: the harness holds the database file open read-write, as another process (an analyst's
 *   session) would, so DuckDB's file lock refuses the daemon.
 *
 * `fired` is decided from what happened: refused connections, or the daemon's log naming the
 * failure (ENOTDIR/EEXIST for Delta, the lock conflict for DuckDB).
 */
import { existsSync, renameSync, unlinkSync, writeFileSync } from 'node:fs';
import { DuckDBInstance } from '@duckdb/node-api';
import type { DestinationLocation } from './dest-reader.js';
import type { FaultProxy } from '../helpers/fault-proxy.js';

export interface DestinationOutage {
  /** Ends the outage now if it still lasts; then says whether the daemon ran into it. */
  finish(daemonOutput: string): Promise<boolean>;
}

export async function startDestinationOutage(
  location: DestinationLocation,
  proxy: FaultProxy | null,
  ms: number,
): Promise<DestinationOutage> {
  switch (location.kind) {
    case 'postgres': {
      if (proxy === null) throw new Error('PostgreSQL destination without a fault proxy');
      proxy.refuseFor(ms);
      return {
        finish: () => {
          proxy.heal();
          return Promise.resolve(proxy.counters.refused > 0);
        },
      };
    }
    case 'delta': {
      const away = `${location.path}.chaos-away`;
      const moved = existsSync(location.path);
      if (moved) renameSync(location.path, away);
      writeFileSync(location.path, 'chaos: the destination volume is not mounted\n');
      let restored = false;
      const restore = (): void => {
        if (restored) return;
        restored = true;
        unlinkSync(location.path);
        if (moved) renameSync(away, location.path);
      };
      const timer = setTimeout(restore, ms);
      return {
        finish: (output) => {
          clearTimeout(timer);
          restore();
          return Promise.resolve(/ENOTDIR|not a directory|EEXIST|file exists/i.test(output));
        },
      };
    }
    case 'duckdb': {
      const instance = await DuckDBInstance.create(location.file);
      const connection = await instance.connect();
      let released = false;
      const release = (): void => {
        if (released) return;
        released = true;
        connection.closeSync();
        instance.closeSync();
      };
      const timer = setTimeout(release, ms);
      return {
        finish: (output) => {
          clearTimeout(timer);
          release();
          return Promise.resolve(/could not set lock|conflicting lock/i.test(output));
        },
      };
    }
  }
}
