/**
 * The fleet's tables in the shared PostgreSQL state store (docs/fleet.md): who is alive, which
 * schedule fire which host claimed, who runs each pipeline now, and which source query slots each
 * host holds (the fleet-wide `source_slots_per_host`). Every time a lease, a slot or a heartbeat
 * is judged by is the database server's (`now()`), so the hosts' clocks need not agree.
 */
export const FLEET_SCHEMA_SQL = `
CREATE TABLE IF NOT EXISTS fleet_hosts (
  host text PRIMARY KEY,
  pid integer NOT NULL,
  version text NOT NULL,
  started_at text NOT NULL,
  heartbeat_at timestamptz NOT NULL,
  stopped_at timestamptz,
  -- The process using the name now (a random id per daemon start): a second live daemon with the
  -- same fleet.host_name is refused, and a daemon whose name was taken over notices it.
  instance text NOT NULL DEFAULT ''
);
CREATE TABLE IF NOT EXISTS fleet_fire_claims (
  pipeline text NOT NULL,
  fire_key text NOT NULL,
  host text NOT NULL,
  claimed_at timestamptz NOT NULL DEFAULT now(),
  -- What the claiming host did with the fire: 'run <attempt id>', 'queued' or 'skipped: <why>'
  -- (null while it decides, or when it died deciding).
  outcome text,
  PRIMARY KEY (pipeline, fire_key)
);
CREATE INDEX IF NOT EXISTS fleet_fire_claims_claimed_at ON fleet_fire_claims (claimed_at);
CREATE TABLE IF NOT EXISTS fleet_run_leases (
  pipeline text PRIMARY KEY,
  host text NOT NULL,
  run_id text NOT NULL,
  expires_at timestamptz NOT NULL
);
CREATE INDEX IF NOT EXISTS fleet_run_leases_host ON fleet_run_leases (host);
-- One row per source query under way fleet-wide; source is the governor's host key (host:port).
-- A row counts while expires_at is ahead of now(); its host's heartbeat pushes it forward, so the
-- slots of a dead host free themselves after the lease time.
CREATE TABLE IF NOT EXISTS fleet_source_slots (
  source text NOT NULL,
  slot_id text NOT NULL,
  host text NOT NULL,
  expires_at timestamptz NOT NULL,
  PRIMARY KEY (source, slot_id)
);
CREATE INDEX IF NOT EXISTS fleet_source_slots_host ON fleet_source_slots (host);
`;
