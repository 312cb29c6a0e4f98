import type { JSX } from 'react';
import { Box, Text } from 'ink';
import { formatBytes } from '../../../shared/format-bytes.js';
import { formatRelative } from '../format/time.js';
import type { YamlView as YamlState } from '../state/view-state.js';
import { Label } from './Label.js';

export type Props = {
  readonly view: YamlState;
  readonly width: number;
  /** Rows available, the title included. */
  readonly height: number;
  readonly nowMs: number;
};

/** `y`: the pipeline's file as it is on disk, with line numbers (problems name file:line:col). */
export function YamlView({ view, width, height, nowMs }: Props): JSX.Element {
  const file = view.file;
  const title = (
    <Text wrap="truncate">
      <Text bold>{`yaml: ${view.pipeline}`}</Text>
      {file === null
        ? ''
        : ` · ${file.file} · ${formatBytes(file.bytes)} · changed ${formatRelative(file.modified_at, nowMs)}`}
    </Text>
  );
  if (file === null) {
    return (
      <Box flexDirection="column" width={width}>
        {title}
        {view.error === null ? (
          <Text>loading…</Text>
        ) : (
          <Label color="red">{`could not read the file: ${view.error}`}</Label>
        )}
      </Box>
    );
  }
  const notes: string[] = [];
  if (file.masked) notes.push('values that looked like secrets are shown as ***');
  if (file.truncated) notes.push(`only the first ${formatBytes(file.text.length)} are shown`);
  const lines = file.text.replace(/\n$/, '').split('\n');
  const numberWidth = String(lines.length).length;
  const bodyHeight = Math.max(height - 1 - notes.length, 1);
  const shown = lines.slice(view.scroll, view.scroll + bodyHeight);
  return (
    <Box flexDirection="column" width={width}>
      {title}
      {notes.map((note) => (
        <Label key={note} color="yellow">
          {note}
        </Label>
      ))}
      {shown.map((line, index) => (
        <Text key={view.scroll + index} wrap="truncate">
          <Text dimColor>{`${String(view.scroll + index + 1).padStart(numberWidth)} │ `}</Text>
          {line}
        </Text>
      ))}
    </Box>
  );
}
