/**
 * The reducer the app runs: view actions plus raw key presses. Keys are resolved here, against
 * the latest state, so keys typed faster than the screen re-renders (`/` then `ord`) still
 * land in the right mode.
 */
import { resolveKey, type KeyOptions, type KeyPress } from './keymap.js';
import { viewReducer, type ViewAction, type ViewState } from './view-state.js';

export type ConsoleAction =
  | ViewAction
  | { readonly type: 'key'; readonly input: string; readonly key: KeyPress; readonly options: KeyOptions };

function isPlainText(input: string, key: KeyPress): boolean {
  return input.length > 1 && !input.startsWith('\u001b') && key.ctrl !== true && key.meta !== true;
}

/** The key a single character stands for when it arrives inside a multi-character read. */
function charKey(char: string): KeyPress {
  if (char === '\r' || char === '\n') return { return: true };
  if (char === '\u007f' || char === '\b') return { backspace: true };
  if (char === '\t') return { tab: true };
  return {};
}

function applyKey(state: ViewState, input: string, key: KeyPress, options: KeyOptions): ViewState {
  return resolveKey(state, input, key, options).reduce(viewReducer, state);
}

export function consoleReducer(state: ViewState, action: ConsoleAction): ViewState {
  if (action.type !== 'key') return viewReducer(state, action);
  // Several characters in one read (a paste, or tmux send-keys) are keys pressed in order.
  if (isPlainText(action.input, action.key)) {
    return [...action.input].reduce(
      (current, char) => applyKey(current, char, charKey(char), action.options),
      state,
    );
  }
  return applyKey(state, action.input, action.key, action.options);
}
