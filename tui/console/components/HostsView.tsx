import type { JSX } from 'react';
import { Box, Text } from 'ink';
import type { FleetHostEntry } from '../../../shared/protocol-hosts.js';
import type { ColorName } from '../format/colors.js';
import { formatDateTime, formatRelative } from '../format/time.js';
import type { HostsView as HostsData } from '../state/view-types.js';
import { Label } from './Label.js';
import { Table, type Column } from './Table.js';

export type Props = {
  readonly hosts: HostsData;
  readonly width: number;
  /** Rows available, the header row and the note below included. */
  readonly height: number;
  readonly nowMs: number;
};

function healthColor(health: FleetHostEntry['health']): ColorName {
  switch (health) {
    case 'alive':
      return 'green';
    case 'lost':
      return 'red';
    case 'stopped':
      return 'gray';
  }
}

/** The same columns as `etlctl hosts`; `*` marks the daemon the console talks to. */
export function hostColumns(
  hosts: readonly FleetHostEntry[],
  thisHost: string,
  width: number,
  nowMs: number,
): Column<FleetHostEntry>[] {
  const hostWidth = Math.min(Math.max(6, ...hosts.map((h) => h.host.length + 2)), 32);
  const versionWidth = Math.min(Math.max(7, ...hosts.map((h) => h.version.length)), 16);
  const columns: Column<FleetHostEntry>[] = [
    {
      header: 'HOST',
      width: hostWidth,
      cell: (h) => ({ text: h.host === thisHost ? `${h.host} *` : h.host, bold: true }),
    },
    { header: 'HEALTH', width: 7, cell: (h) => ({ text: h.health, color: healthColor(h.health) }) },
    { header: 'PID', width: 8, align: 'right', cell: (h) => ({ text: String(h.pid) }) },
    { header: 'VERSION', width: versionWidth, cell: (h) => ({ text: h.version }) },
    { header: 'STARTED', width: 19, cell: (h) => ({ text: formatDateTime(h.started_at) }) },
    { header: 'HEARTBEAT', width: 11, cell: (h) => ({ text: formatRelative(h.heartbeat_at, nowMs) }) },
  ];
  const used = columns.reduce((sum, c) => sum + c.width + 1, 2);
  if (width - used >= 8)
    columns.push({
      header: 'RUNNING',
      width: width - used - 1,
      cell: (h) => ({
        text: h.running.length === 0 ? '—' : h.running.join(', '),
        ...(h.health === 'alive' ? {} : { color: 'gray' as const }),
      }),
    });
  return columns;
}

/** `:hosts`: the daemons sharing the state store, refreshed with the other views. */
export function HostsView({ hosts, width, height, nowMs }: Props): JSX.Element {
  const result = hosts.result;
  const rows = result?.hosts ?? [];
  const note =
    result === null
      ? null
      : result.fleet
        ? `* this daemon (${result.this_host}); the hosts share one PostgreSQL state store`
        : `* this daemon (${result.this_host}), alone: its state store is its own`;
  return (
    <Box flexDirection="column">
      <Table
        columns={hostColumns(rows, result?.this_host ?? '', width, nowMs)}
        rows={rows}
        rowKey={(h) => h.host}
        selected={-1}
        height={Math.max(height - 3, 1)}
        empty={hosts.error === null ? 'loading hosts…' : 'no hosts'}
      />
      {note === null ? null : (
        <Text dimColor wrap="truncate">
          {note}
        </Text>
      )}
      {hosts.error === null ? null : <Label color="red">{`could not list the hosts: ${hosts.error}`}</Label>}
    </Box>
  );
}
