import type { JSX, ReactNode } from 'react';
import { Box, Text } from 'ink';
import type { LogLine } from '../../../shared/protocol.js';
import { logLevelColor } from '../format/colors.js';
import { fit } from '../format/text.js';
import { formatDateTime } from '../format/time.js';
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

/** The source column of `:logs` (every pipeline's log): as wide as the longest name shown, within bounds. */
const SOURCE_MAX = 20;

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

/** One terminal row of the pane: a line's head (time, level, source) or a wrapped line's continuation. */
interface Row {
  readonly key: string;
  readonly line: LogLine;
  readonly head: boolean;
  readonly text: string;
}

/**
 * The rows `line` takes: one, its message cut and shifted sideways (a multi-line message shows
 * `⏎` where it breaks); or, wrapped, as many as the message needs after the head.
 */
export function layoutLine(
  line: LogLine,
  key: string,
  textWidth: number,
  wrap: boolean,
  shift: number,
): Row[] {
  if (!wrap) {
    const flat = line.message.replace(/\r?\n/g, ' ⏎ ');
    return [{ key, line, head: true, text: [...flat].slice(shift).join('') }];
  }
  const width = Math.max(textWidth, 1);
  const rows: Row[] = [];
  for (const part of line.message.split(/\r?\n/)) {
    const chars = [...part];
    for (let start = 0; start === 0 || start < chars.length; start += width) {
      rows.push({
        key: `${key}.${rows.length}`,
        line,
        head: rows.length === 0,
        text: chars.slice(start, start + width).join(''),
      });
      if (chars.length === 0) break;
    }
  }
  return rows;
}

function RowText({
  row,
  regex,
  indent,
  source,
}: {
  readonly row: Row;
  readonly regex: RegExp | null;
  readonly indent: number;
  readonly source: number;
}): JSX.Element {
  const color = useColor();
  const parts = splitMatches(row.text, regex).map((part, index) =>
    part.match ? (
      <Text key={index} inverse bold color={color('yellow')}>
        {part.text}
      </Text>
    ) : (
      part.text
    ),
  );
  if (!row.head)
    return (
      <Text wrap="truncate">
        {`${' '.repeat(indent)}`}
        {parts}
      </Text>
    );
  return (
    <Text wrap="truncate">
      {`${formatDateTime(row.line.ts)} `}
      <Text color={color(logLevelColor(row.line.level))}>{LEVEL_TAG[row.line.level]}</Text>{' '}
      {source > 0 ? <Text bold>{`${fit(row.line.pipeline ?? 'etld', source)} `}</Text> : null}
      {parts}
    </Text>
  );
}

export function LogPane({ view, width, height }: Props): JSX.Element {
  const { regex } = compileSearch(view.search);
  const bodyHeight = Math.max(height - 1, 1);
  const end = view.lines.length - view.scroll;
  // Enough lines to fill the pane even if none wraps; wrapped ones take more rows, cut from the top.
  const candidates = view.lines.slice(Math.max(end - bodyHeight, 0), end);
  const source =
    view.pipeline === null
      ? Math.min(Math.max(4, ...candidates.map((l) => (l.pipeline ?? 'etld').length)), SOURCE_MAX)
      : 0;
  // `2026-05-21 10:00:03 INFO ` and, for every pipeline's log, the source.
  const indent = 19 + 1 + 4 + 1 + (source > 0 ? source + 1 : 0);
  const first = Math.max(end - bodyHeight, 0);
  const rows = candidates
    .flatMap((line, index) =>
      layoutLine(line, String(view.dropped + first + index), width - indent, view.wrap, view.shift),
    )
    .slice(-bodyHeight);
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
  status.push(view.wrap ? ' · wrap' : ` · cut${view.shift > 0 ? ` → +${view.shift}` : ''}`);
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
        <Text bold>{`logs: ${view.pipeline ?? 'every pipeline'}`}</Text>
        {' · '}
        {status}
      </Text>
      {view.error !== null ? <Label color="red">{`could not read logs: ${view.error}`}</Label> : null}
      {rows.length === 0 && view.error === null ? <Text>no log lines yet</Text> : null}
      {rows.map((row) => (
        <RowText key={row.key} row={row} regex={regex} indent={indent} source={source} />
      ))}
    </Box>
  );
}
