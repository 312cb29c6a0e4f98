/**
 * Where a chaos pipeline's state store is, for the harness's own reads and faults: the SQLite file
 * of its home, or (fleet mode) its database on the chaos PostgreSQL server, which the daemons reach
 * through `url_env` (the variable is set in every daemon's environment, never written to a file).
 */
import type { SqlTarget } from './sql-target.js';

export type StateLocation =
  | { readonly kind: 'sqlite'; readonly file: string }
  | {
      readonly kind: 'postgres';
      readonly target: SqlTarget;
      readonly database: string;
      /** The environment every daemon of the pipeline gets: `{ [url_env]: url }`. */
      readonly env: Readonly<Record<string, string>>;
    };

/** The variable the fleet homes' settings name in `state.url_env`. */
export const FLEET_STATE_URL_ENV = 'ETLD_CHAOS_STATE_URL';

export function postgresState(target: SqlTarget, database: string): StateLocation {
  const url = `postgres://${encodeURIComponent(target.user)}@${target.host}:${target.port}/${database}`;
  return { kind: 'postgres', target, database, env: { [FLEET_STATE_URL_ENV]: url } };
}

/** What the daemons of this state store need in their environment. */
export function stateEnv(state: StateLocation): Readonly<Record<string, string>> {
  return state.kind === 'postgres' ? state.env : {};
}
