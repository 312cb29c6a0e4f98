/**
 * The fleet on the wire (`hosts` of the protocol, `etlctl hosts`, the console's `:hosts`): the
 * daemons sharing this daemon's state store, as its fleet coordinator sees them. A daemon alone
 * (SQLite state) answers with itself, `fleet: false`. Kept apart from protocol.ts, which imports
 * it into its method table.
 */
import { z } from 'zod';

/** `alive`: a heartbeat within the lease time; `lost`: none since; `stopped`: it shut down. */
export const HOST_HEALTHS = ['alive', 'lost', 'stopped'] as const;

export const fleetHostSchema = z.object({
  host: z.string().describe("The host's name in the fleet"),
  pid: z.number().int().describe("The daemon's process id on that host"),
  version: z.string().describe('The etld version it runs'),
  started_at: z.string().describe('When that daemon started (ISO-8601, UTC)'),
  heartbeat_at: z.string().describe('Its last heartbeat (ISO-8601, UTC)'),
  health: z
    .enum(HOST_HEALTHS)
    .describe('alive (a heartbeat within the lease time), lost (none since), stopped (it shut down)'),
  running: z.array(z.string()).describe('The pipelines whose run lease it holds'),
});
export type FleetHostEntry = z.infer<typeof fleetHostSchema>;

export const fleetHostsSchema = z.object({
  fleet: z
    .boolean()
    .describe('Several daemons may share the state store (PostgreSQL); false: this daemon alone'),
  this_host: z.string().describe("The answering daemon's name in the fleet"),
  hosts: z.array(fleetHostSchema).describe('Every host the state store knows, this one included'),
});
export type FleetHosts = z.infer<typeof fleetHostsSchema>;
