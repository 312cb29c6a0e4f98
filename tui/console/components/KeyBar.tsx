import type { JSX } from 'react';
import { Box, Text } from 'ink';
import { wrapItems } from '../format/text.js';
import type { Screen } from '../state/view-state.js';

export type Props = {
  readonly screen: Screen;
  /** The actions are left out: `--readonly`, a read-only connection, or nothing to act on. */
  readonly readonly: boolean;
  readonly width: number;
};

const ACTION_KEYS = ['s start', 'x stop', 'p pause/resume', 'r retry'];
/** The state operations, offered where a pipeline is the subject: the table and its details. */
const STATE_KEYS = ['F full refresh', 'B backfill'];
const ALWAYS = [': views', '? help', 'q quit'];

/** Every key the current screen accepts; a read-only console leaves the actions out entirely. */
export function keyHints(screen: Screen, readonly: boolean): string[] {
  const actions = readonly ? [] : ACTION_KEYS;
  const operations = readonly ? [] : STATE_KEYS;
  switch (screen) {
    case 'table':
      return [
        ...actions,
        ...operations,
        'l logs',
        'y yaml',
        'd error',
        'enter details',
        '/ filter',
        'o sort',
        'esc clear',
        ...ALWAYS,
      ];
    case 'detail':
      return [...actions, ...operations, 'l logs', 'y yaml', 'd error', 'esc back', ...ALWAYS];
    case 'logs':
      return [
        'space pause',
        '↑↓ scroll',
        '←→ shift',
        'w wrap',
        'G follow',
        '/ search',
        'n/N next',
        ...actions,
        'esc back',
        ...ALWAYS,
      ];
    case 'runs':
      return ['↑↓ move', 'enter details', '/ filter', 'l logs', 'y yaml', ...actions, 'esc back', ...ALWAYS];
    case 'alerts':
      return ['↑↓ move', 'enter details', '/ filter', 'esc back', ...ALWAYS];
    case 'yaml':
      return ['↑↓ scroll', 'g/G top/end', 'l logs', 'esc back', ...ALWAYS];
    case 'hosts':
      return ['esc back', ...ALWAYS];
  }
}

export function keyBarLines(screen: Screen, readonly: boolean, width: number): string[][] {
  return wrapItems(keyHints(screen, readonly), Math.max(width, 20));
}

export function KeyBar({ screen, readonly, width }: Props): JSX.Element {
  return (
    <Box flexDirection="column">
      {keyBarLines(screen, readonly, width).map((items, line) => (
        <Text key={line} wrap="truncate">
          {items.map((item, index) => {
            const space = item.indexOf(' ');
            return (
              <Text key={item}>
                {index === 0 ? '' : '  '}
                <Text bold>{item.slice(0, space)}</Text>
                {item.slice(space)}
              </Text>
            );
          })}
        </Text>
      ))}
    </Box>
  );
}
