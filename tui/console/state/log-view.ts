/**
 * The live log pane's state: a bounded buffer that follows new lines, can be paused (the view
 * stays put while lines keep arriving) and searched, with jumps between matching lines. Long lines
 * are cut at the right edge and scrolled sideways, or wrapped (`w`).
 */
import type { LogLine } from '../../../shared/protocol.js';

/** Enough scrollback to read around an error without letting a chatty run grow memory. */
export const LOG_BUFFER_LINES = 2000;

export interface LogView {
  /** The pipeline whose log this is; null for every pipeline's and the daemon's (`:logs`). */
  readonly pipeline: string | null;
  readonly lines: readonly LogLine[];
  readonly paused: boolean;
  /** Lines hidden below the view; 0 shows the newest line at the bottom. */
  readonly scroll: number;
  /** Lines that arrived while paused. */
  readonly unseen: number;
  /** Lines trimmed from the front of the buffer since the pane opened. */
  readonly dropped: number;
  readonly search: string;
  readonly searchEditing: boolean;
  readonly searchBefore: string;
  readonly searchError: string | null;
  readonly error: string | null;
  /** Long lines wrap onto the next rows instead of being cut at the right edge. */
  readonly wrap: boolean;
  /** Columns of each message scrolled out on the left (cut lines only). */
  readonly shift: number;
}

/** Columns `←` / `→` move a cut line by. */
export const LOG_SHIFT_STEP = 8;

export type LogAction =
  | {
      readonly type: 'logLines';
      readonly pipeline: string | null;
      readonly lines: readonly LogLine[];
      readonly replace: boolean;
    }
  | { readonly type: 'logsFailed'; readonly pipeline: string | null; readonly error: string }
  | { readonly type: 'logsWrap' }
  /** Positive deltas show more of the right side of long lines. */
  | { readonly type: 'logsShift'; readonly delta: number }
  | { readonly type: 'logsTogglePause' }
  /** Positive deltas scroll towards older lines. */
  | { readonly type: 'logsScroll'; readonly delta: number }
  | { readonly type: 'logsFollow' }
  | { readonly type: 'searchStart' }
  | { readonly type: 'searchInput'; readonly text: string }
  | { readonly type: 'searchBackspace' }
  | { readonly type: 'searchCommit' }
  | { readonly type: 'searchCancel' }
  | { readonly type: 'searchJump'; readonly direction: 'older' | 'newer' };

export function createLogView(pipeline: string | null): LogView {
  return {
    pipeline,
    lines: [],
    paused: false,
    scroll: 0,
    unseen: 0,
    dropped: 0,
    search: '',
    searchEditing: false,
    searchBefore: '',
    searchError: null,
    error: null,
    wrap: false,
    shift: 0,
  };
}

const REGEX_SYNTAX = /[\\^$.*+?()[\]{}|]/;

/** Search text as a global, case-insensitive pattern: regex syntax is a regex, else a substring. */
export function compileSearch(text: string): {
  readonly regex: RegExp | null;
  readonly error: string | null;
} {
  if (text === '') return { regex: null, error: null };
  const source = REGEX_SYNTAX.test(text) ? text : text.replace(/[\\^$.*+?()[\]{}|]/g, '\\$&');
  try {
    return { regex: new RegExp(source, 'gi'), error: null };
  } catch (error) {
    const reason =
      error instanceof Error ? error.message.replace(/^Invalid regular expression: /, '') : String(error);
    return { regex: null, error: `invalid regular expression "${text}": ${reason}` };
  }
}

export function lineMatches(regex: RegExp, line: LogLine): boolean {
  regex.lastIndex = 0;
  const found = regex.test(line.message);
  regex.lastIndex = 0;
  return found;
}

function clampScroll(view: LogView, scroll: number): number {
  return Math.min(Math.max(scroll, 0), Math.max(view.lines.length - 1, 0));
}

function appendLines(view: LogView, incoming: readonly LogLine[], replace: boolean): LogView {
  if (replace) {
    const lines = incoming.slice(-LOG_BUFFER_LINES);
    return { ...view, lines, scroll: 0, unseen: 0, paused: false, error: null };
  }
  const combined = [...view.lines, ...incoming];
  const overflow = Math.max(combined.length - LOG_BUFFER_LINES, 0);
  const lines = overflow > 0 ? combined.slice(overflow) : combined;
  if (!view.paused) return { ...view, lines, dropped: view.dropped + overflow };
  const next = { ...view, lines, dropped: view.dropped + overflow, unseen: view.unseen + incoming.length };
  return { ...next, scroll: clampScroll(next, view.scroll + incoming.length) };
}

function withSearch(view: LogView, text: string): LogView {
  return { ...view, search: text, searchError: compileSearch(text).error };
}

function jump(view: LogView, direction: 'older' | 'newer'): LogView {
  const { regex } = compileSearch(view.search);
  if (regex === null) return view;
  const bottom = view.lines.length - 1 - view.scroll;
  const step = direction === 'older' ? -1 : 1;
  for (let index = bottom + step; index >= 0 && index < view.lines.length; index += step) {
    const line = view.lines[index];
    if (line !== undefined && lineMatches(regex, line)) {
      return { ...view, paused: true, scroll: view.lines.length - 1 - index };
    }
  }
  return view;
}

export function applyLogAction(view: LogView, action: LogAction): LogView {
  switch (action.type) {
    case 'logLines':
      return action.pipeline === view.pipeline ? appendLines(view, action.lines, action.replace) : view;
    case 'logsFailed':
      return action.pipeline === view.pipeline ? { ...view, error: action.error } : view;
    case 'logsTogglePause':
      return view.paused ? { ...view, paused: false, scroll: 0, unseen: 0 } : { ...view, paused: true };
    case 'logsScroll': {
      const scroll = clampScroll(view, view.scroll + action.delta);
      return scroll === 0 && action.delta < 0
        ? { ...view, paused: false, scroll: 0, unseen: 0 }
        : { ...view, paused: true, scroll };
    }
    case 'logsFollow':
      return { ...view, paused: false, scroll: 0, unseen: 0 };
    case 'searchStart':
      return { ...view, searchEditing: true, searchBefore: view.search };
    case 'searchInput':
      return withSearch(view, view.search + action.text);
    case 'searchBackspace':
      return withSearch(view, view.search.slice(0, -1));
    case 'searchCommit':
      return { ...view, searchEditing: false };
    case 'searchCancel':
      return { ...withSearch(view, view.searchBefore), searchEditing: false };
    case 'searchJump':
      return jump(view, action.direction);
    case 'logsWrap':
      return { ...view, wrap: !view.wrap, shift: 0 };
    case 'logsShift': {
      if (view.wrap) return view;
      // No further than the longest line's end: past it the pane would be empty.
      const longest = view.lines.reduce((max, line) => Math.max(max, line.message.length), 0);
      return { ...view, shift: Math.min(Math.max(view.shift + action.delta, 0), Math.max(longest - 1, 0)) };
    }
  }
}
