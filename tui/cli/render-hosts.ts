/**
 * The fleet in etlctl: `etlctl hosts`.
 *
 * Decisions:
 * - STARTED is a time (when the daemon came up is looked up, not scanned); LAST HEARTBEAT is an
 *   age, because what the operator asks of it is "how long has this host been silent".
 * - This daemon's row is marked `*`, so that on any host of the fleet the answer says where it
 *   was asked.
 * - A host that is not `alive` runs nothing the fleet relies on: its leases expire and other hosts
 *   take its pipelines; its RUNNING column still shows the leases it last held, dimmed.
 */
import type { FleetHostEntry, FleetHosts } from '../../shared/protocol-hosts.js';
import { formatRelative, formatTime, renderTable, type Style } from './format.js';

function healthText(health: FleetHostEntry['health'], style: Style): string {
  switch (health) {
    case 'alive':
      return style.green(health);
    case 'lost':
      return style.red(health);
    case 'stopped':
      return style.dim(health);
  }
}

function runningText(host: FleetHostEntry, style: Style): string {
  if (host.running.length === 0) return '-';
  const names = host.running.join(', ');
  return host.health === 'alive' ? names : style.dim(names);
}

export function renderHosts(result: FleetHosts, style: Style, now: Date): string {
  const rows = result.hosts.map((h) => [
    h.host === result.this_host ? `${h.host} *` : h.host,
    healthText(h.health, style),
    String(h.pid),
    h.version,
    formatTime(h.started_at),
    formatRelative(h.heartbeat_at, now),
    runningText(h, style),
  ]);
  const table = renderTable(
    ['HOST', 'HEALTH', 'PID', 'VERSION', 'STARTED', 'LAST HEARTBEAT', 'RUNNING'],
    rows,
    style,
  );
  const note = result.fleet
    ? `* this daemon (${result.this_host}); the hosts share one PostgreSQL state store`
    : `* this daemon (${result.this_host}), alone: its state store is its own (fleet mode needs state: { type: postgres })`;
  return `${table}\n${style.dim(note)}\n`;
}
