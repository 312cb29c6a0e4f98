import type { JSX } from 'react';
import { Box, Text } from 'ink';
import type { ConnectionState } from '../../../shared/client/client.js';
import { LAST_GOOD_MARK } from '../../../shared/file-status-words.js';
import type { DaemonInfo, PipelineSummary, Resources } from '../../../shared/protocol.js';
import { pipelineStateColor } from '../format/colors.js';
import { formatBytes } from '../../../shared/format-bytes.js';
import { formatPercent } from '../format/numbers.js';
import { displayState } from '../format/pipeline-cells.js';
import { formatElapsed } from '../format/time.js';
import { Label } from './Label.js';

export type Props = {
  readonly info: DaemonInfo | null;
  readonly infoReceivedAt: number | null;
  readonly resources: Resources | null;
  readonly connection: ConnectionState;
  readonly connectionDetail: string | null;
  readonly pipelines: readonly PipelineSummary[];
  readonly nowMs: number;
  /** `--readonly`, or a connection the daemon holds read-only. */
  readonly readonly: boolean;
};

const STATE_ORDER = ['running', 'retrying', 'waiting', 'failed', 'invalid', 'paused', 'idle'] as const;

function connectionLabel(state: ConnectionState): { text: string; color: 'green' | 'yellow' | 'red' } {
  switch (state) {
    case 'connected':
      return { text: '● connected', color: 'green' };
    case 'connecting':
      return { text: '◌ connecting…', color: 'yellow' };
    case 'disconnected':
      return { text: '○ disconnected — reconnecting…', color: 'red' };
    case 'closed':
      return { text: '○ disconnected — reconnecting…', color: 'red' };
  }
}

export function countByState(pipelines: readonly PipelineSummary[]): Map<string, number> {
  const counts = new Map<string, number>();
  for (const pipeline of pipelines) {
    const state = displayState(pipeline);
    counts.set(state, (counts.get(state) ?? 0) + 1);
  }
  return counts;
}

function resourceText(resources: Resources): string {
  const parts: string[] = [];
  parts.push(`CPU ${resources.cpu_percent === null ? '—' : `${Math.round(resources.cpu_percent)}%`}`);
  if (resources.load_avg.length > 0)
    parts.push(`load ${resources.load_avg.map((l) => l.toFixed(2)).join(' ')}`);
  const memFraction =
    resources.mem_total_bytes > 0 ? resources.mem_used_bytes / resources.mem_total_bytes : null;
  parts.push(
    `mem ${formatBytes(resources.mem_used_bytes)}/${formatBytes(resources.mem_total_bytes)} (${formatPercent(memFraction)})`,
  );
  // Data paths usually share one filesystem: say its free space once, naming every path on it.
  const filesystems = new Map<string, string[]>();
  for (const disk of resources.disks) {
    const key = `${disk.free_bytes}/${disk.total_bytes}`;
    filesystems.set(key, [...(filesystems.get(key) ?? []), disk.label]);
  }
  for (const [key, labels] of filesystems)
    parts.push(`${labels.join('/')} ${formatBytes(Number(key.split('/')[0]))} free`);
  parts.push(`etld rss ${formatBytes(resources.rss_bytes)}`);
  return parts.join(' · ');
}

export function Header({
  info,
  infoReceivedAt,
  resources,
  connection,
  connectionDetail,
  pipelines,
  nowMs,
  readonly,
}: Props): JSX.Element {
  const status = connectionLabel(connection);
  const uptime =
    info === null || infoReceivedAt === null
      ? null
      : info.uptime_s + Math.max(nowMs - infoReceivedAt, 0) / 1000;
  const counts = countByState(pipelines);
  const lastGood = pipelines.filter((p) => p.file_status === 'last_good').length;
  // The connection comes first so a narrow terminal never truncates it away.
  return (
    <Box flexDirection="column">
      <Text wrap="truncate">
        <Label color={status.color} bold={connection !== 'connected'}>
          {status.text}
        </Label>
        {' · '}
        <Text bold>etld {info?.version ?? '?'}</Text>
        {` @ ${info?.host ?? '?'} · up ${uptime === null ? '—' : formatElapsed(uptime)}`}
        {readonly ? (
          <Label color="yellow" bold>
            {' · [read-only]'}
          </Label>
        ) : null}
      </Text>
      {connection !== 'connected' && connectionDetail !== null ? (
        <Text wrap="truncate">
          <Label color="red">{connectionDetail}</Label>
        </Text>
      ) : (
        <Text wrap="truncate">{resources === null ? 'resources: —' : resourceText(resources)}</Text>
      )}
      <Text wrap="truncate">
        {`pipelines ${pipelines.length}`}
        {STATE_ORDER.filter((s) => (counts.get(s) ?? 0) > 0).map((s) => (
          <Text key={s}>
            {' · '}
            <Label color={pipelineStateColor(s)}>{`${counts.get(s) ?? 0} ${s}`}</Label>
          </Text>
        ))}
        {lastGood > 0 ? (
          <Text>
            {' · '}
            <Label color={pipelineStateColor('invalid')}>
              {`${lastGood} running the last good version${LAST_GOOD_MARK}`}
            </Label>
          </Text>
        ) : null}
      </Text>
    </Box>
  );
}
