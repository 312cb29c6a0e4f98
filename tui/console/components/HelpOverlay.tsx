import type { JSX } from 'react';
import { Box, Text } from 'ink';

export type Props = {
  readonly readonly: boolean;
};

type Rows = readonly (readonly [string, string])[];

const ACTIONS: Rows = [
  ['s', 'start a run now'],
  ['x', 'stop the run (confirm)'],
  ['p', 'pause / resume'],
  ['r', 'retry a failed run'],
];

const NAVIGATION: Rows = [
  ['↑↓ j k', 'move'],
  ['PgUp/Dn g G', 'page, first, last'],
  ['enter', 'details, progress, why'],
  ['l', 'live log'],
  ['/', 'filter: text|regex|!not'],
  ['o  O', 'sort column / reverse'],
  ['esc', 'back / clear filter'],
  ['?', 'help'],
  ['q', 'quit'],
];

const LOGS: Rows = [
  ['space', 'pause / follow'],
  ['↑↓ PgUp/Dn', 'scroll (pauses)'],
  ['G', 'follow again'],
  ['/  n  N', 'search, older/newer hit'],
];

function Section({ title, rows }: { readonly title: string; readonly rows: Rows }): JSX.Element {
  return (
    <Box flexDirection="column">
      <Text bold>{title}</Text>
      {rows.map(([key, what]) => (
        <Text key={key} wrap="truncate">
          {`  ${key.padEnd(12)}${what}`}
        </Text>
      ))}
    </Box>
  );
}

/** Two columns so the whole list fits an 80×24 terminal together with the header. */
export function HelpOverlay({ readonly }: Props): JSX.Element {
  return (
    <Box flexDirection="column" borderStyle="round" paddingX={1} alignSelf="flex-start">
      <Text bold>etl-console keys — any key closes this help</Text>
      <Box flexDirection="row">
        <Box flexDirection="column" width={38}>
          {readonly ? (
            <Text>read-only: s x p r are disabled</Text>
          ) : (
            <Section title="Actions" rows={ACTIONS} />
          )}
          <Section title="Log pane" rows={LOGS} />
        </Box>
        <Section title="Navigation" rows={NAVIGATION} />
      </Box>
    </Box>
  );
}
