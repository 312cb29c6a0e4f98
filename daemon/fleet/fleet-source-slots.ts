/**
 * The fleet's source query slots in the shared PostgreSQL store (table `fleet_source_slots`): a
 * row per query under way on a source host key, whichever etld host runs it, so
 * `source_slots_per_host` caps the fleet and not each host. A slot is taken in one transaction
 * under an advisory lock per source (count the live rows, insert one if below the cap), so two
 * hosts asking at once cannot both take the last slot. A row lives until its host deletes it or
 * until `expires_at` passes by the database's clock; the coordinator's heartbeat pushes forward
 * the rows this host still holds, so a dead host's slots free themselves after the lease time.
 */
import { randomUUID } from 'node:crypto';
import type { SyncPgClient } from '../state/pg-sync-client.js';

export interface FleetSourceSlotsOptions {
  /** The coordinator's connection (a slot must not wait behind the store's long transactions). */
  readonly db: SyncPgClient;
  readonly host: string;
  readonly leaseMs: number;
}

interface CountRow extends Record<string, unknown> {
  n: number;
}

export class FleetSourceSlots {
  readonly #o: FleetSourceSlotsOptions;
  /** Slot ids this host holds now, by id: only these are renewed. */
  readonly #held = new Map<string, string>();

  constructor(options: FleetSourceSlotsOptions) {
    this.#o = options;
  }

  /**
   * Takes a slot on `source` if fewer than `cap` are live fleet-wide: its id, or null when the
   * fleet is full. Throws the client's STATE_STORE error when the store does not answer.
   */
  take(source: string, cap: number): string | null {
    const { db, host, leaseMs } = this.#o;
    const slotId = `${host}/${randomUUID()}`;
    const taken = db.transaction(() => {
      // Serialises takers of this source until COMMIT; other sources are not held up.
      db.query("SELECT pg_advisory_xact_lock(hashtext('etld:slots:' || $1))", [source]);
      // Rows of hosts that died (or failed to delete them) are swept here, by whoever asks next.
      db.query('DELETE FROM fleet_source_slots WHERE source = $1 AND expires_at <= now()', [source]);
      const [row] = db.query<CountRow>(
        'SELECT count(*)::int AS n FROM fleet_source_slots WHERE source = $1',
        [source],
      );
      if ((row?.n ?? 0) >= cap) return false;
      db.query(
        `INSERT INTO fleet_source_slots (source, slot_id, host, expires_at)
         VALUES ($1, $2, $3, now() + $4::float8 * interval '1 millisecond')`,
        [source, slotId, host, leaseMs],
      );
      return true;
    });
    if (!taken) return null;
    this.#held.set(slotId, source);
    return slotId;
  }

  /**
   * Gives a slot back. It is forgotten first, so even when the delete fails (store unreachable)
   * no heartbeat renews it and it expires after the lease time; the error is rethrown.
   */
  release(slotId: string): void {
    const source = this.#held.get(slotId);
    if (source === undefined) return;
    this.#held.delete(slotId);
    this.#o.db.query('DELETE FROM fleet_source_slots WHERE source = $1 AND slot_id = $2', [source, slotId]);
  }

  /** Extends the slots this host holds by a lease time (called inside the heartbeat's transaction). */
  renew(): void {
    if (this.#held.size === 0) return;
    this.#o.db.query(
      `UPDATE fleet_source_slots SET expires_at = now() + $3::float8 * interval '1 millisecond'
        WHERE host = $1 AND slot_id = ANY($2::text[])`,
      [this.#o.host, [...this.#held.keys()], this.#o.leaseMs],
    );
  }

  /** Deletes every row of this host: at start (a previous process's) and on a clean stop. */
  dropAll(): void {
    this.#held.clear();
    this.#o.db.query('DELETE FROM fleet_source_slots WHERE host = $1', [this.#o.host]);
  }
}
