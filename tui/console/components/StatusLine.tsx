import type { JSX } from 'react';
import { Text } from 'ink';
import type { Notice } from '../state/view-state.js';
import { Label } from './Label.js';

/** An open prompt: `:` (the palette), a `/` filter or a log search. */
export interface Prompt {
  readonly label: string;
  readonly text: string;
  readonly error: string | null;
  /** What follows the typed text: completions, or the list's context. */
  readonly hint: string;
  /** Whether the text ends in a cursor (a form draws its own); default true. */
  readonly cursor?: boolean;
}

export type Props = {
  /** A question waiting for y/n, shown before anything else. */
  readonly confirm: string | null;
  readonly prompt: Prompt | null;
  readonly notice: Notice | null;
  /** Right-hand context such as `12 of 500 · sort name ↑ · filter "ord"`. */
  readonly context: string;
};

/** One line between the body and the key bar: confirmation, prompt, notice or context. */
export function StatusLine({ confirm, prompt, notice, context }: Props): JSX.Element {
  if (confirm !== null) {
    return (
      <Text wrap="truncate">
        <Label color="yellow" bold>
          {confirm}
        </Label>
        {' [y/N]'}
      </Text>
    );
  }
  if (prompt !== null) {
    return (
      <Text wrap="truncate">
        <Text bold>{prompt.label}</Text>
        {prompt.cursor === false ? prompt.text : `${prompt.text}▏`}
        {prompt.error === null ? (
          prompt.hint === '' ? (
            ''
          ) : (
            `  · ${prompt.hint}`
          )
        ) : (
          <Label color="red">{`  ${prompt.error}`}</Label>
        )}
      </Text>
    );
  }
  if (notice !== null) {
    return (
      <Text wrap="truncate">
        <Label color={notice.tone === 'error' ? 'red' : 'green'}>{notice.text}</Label>
        {context === '' ? '' : `  · ${context}`}
      </Text>
    );
  }
  return <Text wrap="truncate">{context}</Text>;
}
