import type { JSX } from 'react';
import { Text } from 'ink';
import type { ColorName } from '../format/colors.js';
import { useColor } from '../hooks/use-theme.js';

export type Props = {
  readonly children: string;
  readonly color?: ColorName;
  readonly bold?: boolean;
};

/** Inline text in a meaning colour, dropped under NO_COLOR. */
export function Label({ children, color, bold }: Props): JSX.Element {
  const pick = useColor();
  return (
    <Text color={pick(color)} bold={bold === true}>
      {children}
    </Text>
  );
}
