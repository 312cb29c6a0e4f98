import type { JSX } from 'react';
import { Box, Text } from 'ink';

export type Props = {
  /** Why actions are unavailable (`--readonly`, or a read-only connection); null when they are. */
  readonly readonly: string | null;
};

type Rows = readonly (readonly [string, string])[];

const ACTIONS: Rows = [
  ['s', 'start a run now'],
  ['x', 'stop the run (confirm)'],
  ['p', 'pause / resume'],
  ['r', 'retry a failed run'],
  ['F  B', 'full refresh (confirm), backfill'],
];

const VIEWS: Rows = [
  [':pipelines', 'the pipeline table (:p)'],
  [':runs [TEXT]', 'every run, newest first'],
  [':alerts', 'alerts, newest first'],
  [':logs [NAME]', "every pipeline's log"],
  [':hosts', 'daemons of the fleet'],
];

const NAVIGATION: Rows = [
  ['↑↓ j k', 'move, scroll'],
  ['PgUp/Dn g G', 'page, first, last'],
  ['enter', 'details of the row'],
  ['d', 'the whole error'],
  ['l', 'live log'],
  ['y', "the pipeline's YAML"],
  ['/', 'filter: text|regex|!not'],
  ['o  O', 'sort column / reverse'],
  ['esc', 'back / clear filter'],
  ['?  q', 'help, quit'],
];

const LOGS: Rows = [
  ['space  G', 'pause / follow again'],
  ['←→ 0  w', 'shift, left edge, wrap'],
  ['/  n  N', 'search, older/newer hit'],
];

function Section({ title, rows }: { readonly title: string; readonly rows: Rows }): JSX.Element {
  return (
    <Box flexDirection="column">
      <Text bold>{title}</Text>
      {rows.map(([key, what]) => (
        <Text key={key} wrap="truncate">
          {`  ${key.padEnd(13)}${what}`}
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
          {readonly !== null ? (
            <>
              <Text bold>Actions [read-only]</Text>
              <Text wrap="truncate">{`  s x p r F B off: ${readonly}`}</Text>
            </>
          ) : (
            <Section title="Actions" rows={ACTIONS} />
          )}
          <Section title="Views: type :, tab completes" rows={VIEWS} />
        </Box>
        {/* The log pane's keys sit under the navigation: the left column has the views' rows. */}
        <Box flexDirection="column">
          <Section title="Navigation" rows={NAVIGATION} />
          <Section title="Log pane" rows={LOGS} />
        </Box>
      </Box>
    </Box>
  );
}
