import type { JSX } from 'react';
import { Box, Text } from 'ink';
import { wrapText } from '../format/text.js';
import type { Details } from '../state/details.js';

export type Props = {
  readonly details: Details;
  readonly width: number;
  /** Rows available, the border included. */
  readonly height: number;
};

/** The whole of what lists show in one line: every line of an error, wrapped, scrolled with ↑↓. */
export function DetailsOverlay({ details, width, height }: Props): JSX.Element {
  const inner = Math.max(width - 4, 10);
  const rows = wrapText(details.body, inner);
  const room = Math.max(height - 4, 1);
  const shown = rows.slice(details.scroll, details.scroll + room);
  const more = rows.length - details.scroll - shown.length;
  return (
    <Box flexDirection="column" borderStyle="round" paddingX={1} width={width}>
      <Text bold wrap="truncate">
        {details.title}
      </Text>
      {shown.map((row, index) => (
        <Text key={details.scroll + index} wrap="truncate">
          {row === '' ? ' ' : row}
        </Text>
      ))}
      <Text dimColor wrap="truncate">
        {more > 0 ? `… ${more} more lines · ↑↓ scroll · any other key closes` : 'any key closes'}
      </Text>
    </Box>
  );
}
