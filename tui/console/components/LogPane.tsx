import type { JSX, ReactNode } from 'react';
import { Box, Text } from 'ink';
import type { LogLine } from '../../../shared/protocol.js';
import { logLevelColor } from '../format/colors.js';
import { formatClock } from '../format/time.js';
import { useColor } from '../hooks/use-theme.js';
import { compileSearch, lineMatches, type LogView } from '../state/log-view.js';
import { Label } from './Label.js';

export type Props = {
  readonly view: LogView;
  readonly width: number;
  /** Lines available including the pane's title line. */
  readonly height: number;
};

const LEVEL_TAG: Record<LogLine['level'], string> = {
  error: 'ERR ',
  warning: 'WARN',
  notice: 'NOTE',
  info: 'INFO',
  debug: 'DBG ',
};

/** Splits `text` around matches so they can be highlighted; without a pattern, one plain part. */
export function splitMatches(text: string, regex: RegExp | null): { text: string; match: boolean }[] {
  if (regex === null) return [{ text, match: false }];
  const parts: { text: string; match: boolean }[] = [];
  let last = 0;
  regex.lastIndex = 0;
  for (const found of text.matchAll(regex)) {
    if (found[0] === '') continue;
    if (found.index > last) parts.push({ text: text.slice(last, found.index), match: false });
    parts.push({ text: found[0], match: true });
    last = found.index + found[0].length;
  }
  if (last < text.length) parts.push({ text: text.slice(last), match: false });
  return parts;
}

function LogRow({ line, regex }: { readonly line: LogLine; readonly regex: RegExp | null }): JSX.Element {
  const color = useColor();
  return (
    <Text wrap="truncate">
      {`${formatClock(line.ts)} `}
      <Text color={color(logLevelColor(line.level))}>{LEVEL_TAG[line.level]}</Text>{' '}
      {splitMatches(line.message, regex).map((part, index) =>
        part.match ? (
          <Text key={index} inverse bold color={color('yellow')}>
            {part.text}
          </Text>
        ) : (
          part.text
        ),
      )}
    </Text>
  );
}

export function LogPane({ view, width, height }: Props): JSX.Element {
  const { regex } = compileSearch(view.search);
  const bodyHeight = Math.max(height - 1, 1);
  const end = view.lines.length - view.scroll;
  const shown = view.lines.slice(Math.max(end - bodyHeight, 0), end);
  const matches = regex === null ? 0 : view.lines.filter((line) => lineMatches(regex, line)).length;

  const status: ReactNode[] = [];
  status.push(
    view.paused ? (
      <Label
        key="mode"
        color="yellow"
        bold
      >{`PAUSED${view.unseen > 0 ? ` (${view.unseen} new below)` : ''}`}</Label>
    ) : (
      <Label key="mode" color="green">
        following
      </Label>
    ),
  );
  if (view.search !== '' || view.searchEditing) {
    status.push(
      view.searchError === null ? (
        ` · search "${view.search}": ${matches} matching lines`
      ) : (
        <Label key="search" color="red">{` · ${view.searchError}`}</Label>
      ),
    );
  }
  if (view.dropped > 0) status.push(` · ${view.dropped} older lines dropped`);
  return (
    <Box flexDirection="column" width={width}>
      <Text wrap="truncate">
        <Text bold>{`logs: ${view.pipeline}`}</Text>
        {' · '}
        {status}
      </Text>
      {view.error !== null ? <Label color="red">{`could not read logs: ${view.error}`}</Label> : null}
      {shown.length === 0 && view.error === null ? <Text>no log lines yet</Text> : null}
      {shown.map((line, index) => (
        <LogRow key={`${view.dropped + Math.max(end - bodyHeight, 0) + index}`} line={line} regex={regex} />
      ))}
    </Box>
  );
}
