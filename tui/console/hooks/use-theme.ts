import { createContext, useContext } from 'react';
import type { ColorName } from '../format/colors.js';

export interface Theme {
  /** False under `NO_COLOR` / `--no-color`: components then emit no colour codes at all. */
  readonly color: boolean;
}

export const ThemeContext = createContext<Theme>({ color: true });

/** The colour to pass to Ink's `Text`, or undefined when colour is off. */
export function useColor(): (color: ColorName | undefined) => ColorName | undefined {
  const theme = useContext(ThemeContext);
  return (color) => (theme.color ? color : undefined);
}
