/**
 * Fault 3 in fleet mode, the PostgreSQL equivalent of fault-state-store.ts: while armed, triggers
 * in the pipeline's state database make every write of a watermark (insert or update) and every
 * update of `pipelines.committed_sequence` raise "chaos: simulated disk full", as the SQLite
 * triggers abort them.
 *
 * Decisions:
 * - Installed before the step's daemon starts and dropped after it exited, while no daemon of the
 *   pipeline runs (CREATE TRIGGER takes a lock a running daemon's writes would queue behind).
 * - `BEFORE UPDATE OF committed_sequence` also fires for the store's
 *   `INSERT … ON CONFLICT DO UPDATE SET committed_sequence`, which is how it records a commit; the
 *   `pipelines` row itself may still be inserted (the trigger is on updates only, as in SQLite).
 * - Only tables that exist are targeted; a database not migrated yet gets nothing (not applied).
 */
import { STATE_FAULT_MESSAGE } from './fault-state-store.js';
import type { SqlTarget } from './sql-target.js';

const FUNCTION = 'chaos_fault_raise';

/** Installs the triggers; false when the store's tables do not exist yet (nothing installed). */
export async function installPostgresStateFault(target: SqlTarget, database: string): Promise<boolean> {
  const rows = await target.run(
    database,
    "SELECT to_regclass('watermarks') IS NOT NULL AS wm, to_regclass('pipelines') IS NOT NULL AS pl",
  );
  const present = rows[0] ?? {};
  if (present.wm !== true && present.pl !== true) return false;
  await target.run(
    database,
    `CREATE OR REPLACE FUNCTION ${FUNCTION}() RETURNS trigger LANGUAGE plpgsql AS
       $$ BEGIN RAISE EXCEPTION '${STATE_FAULT_MESSAGE}'; END $$`,
  );
  if (present.wm === true)
    await target.run(
      database,
      `CREATE OR REPLACE TRIGGER chaos_fault_wm BEFORE INSERT OR UPDATE ON watermarks
         FOR EACH ROW EXECUTE FUNCTION ${FUNCTION}()`,
    );
  if (present.pl === true)
    await target.run(
      database,
      `CREATE OR REPLACE TRIGGER chaos_fault_seq BEFORE UPDATE OF committed_sequence ON pipelines
         FOR EACH ROW EXECUTE FUNCTION ${FUNCTION}()`,
    );
  return true;
}

export async function removePostgresStateFault(target: SqlTarget, database: string): Promise<void> {
  // Dropping the function drops the triggers that call it.
  await target.run(database, `DROP FUNCTION IF EXISTS ${FUNCTION}() CASCADE`);
}
