/**
 * The fleet-wide lists of the `:runs` and `:alerts` views: records as the daemon sent them (newest
 * first), page by page, a `/` filter over the fields each row shows, and a selection kept by key
 * so it survives refreshes. A plain-text filter is the daemon's to apply (it searches the whole
 * history); a regular expression filters what is loaded. Moving near the end of what is loaded
 * asks for the next page. Pure: the view reducer applies these to the list on screen.
 */
import type { AlertRecord, RunRecord } from '../../../shared/protocol.js';
import { alertTextFields, runTextFields } from '../../../shared/record-text.js';
import { compileMatcher, isPlainFilter } from './filter.js';

/** Rows from the end of what is loaded at which moving asks for the next page. */
const LOAD_AHEAD = 50;

export interface RecordList<T> {
  readonly items: readonly T[];
  readonly loaded: boolean;
  readonly error: string | null;
  /** Key of the selected record; the first visible one when null or filtered out. */
  readonly selected: string | null;
  readonly filter: string;
  readonly filterEditing: boolean;
  /** The filter before editing started, restored by `esc`. */
  readonly filterBefore: string;
  readonly filterError: string | null;
  /** The daemon filter (`daemonFilter`) the items answer; null before the first page. */
  readonly itemsFilter: string | null;
  /** The daemon has records after the last item. */
  readonly more: boolean;
  /** The key of the last item a next page was asked after; null when none is on its way. */
  readonly loadingAfter: string | null;
}

/** The list on screen as the daemon is asked for it (by the fleet-list hook). */
export interface ListRequest {
  readonly name: 'runs' | 'alerts';
  /** The daemon filter (`daemonFilter`): plain text, `!` inverted, or '' for none. */
  readonly filter: string;
  /** The key of the last record when the next page is wanted; null otherwise. */
  readonly loadingAfter: string | null;
  /** Records loaded for this filter: a refresh asks for as many, so it covers what is on screen. */
  readonly loaded: number;
}

export function listRequest(name: ListRequest['name'], list: RecordList<unknown>): ListRequest {
  const filter = daemonFilter(list);
  return {
    name,
    filter,
    loadingAfter: list.loadingAfter,
    loaded: list.itemsFilter === filter ? list.items.length : 0,
  };
}

/**
 * The status line's account of a list: how many rows are shown, and whether the daemon has more
 * (never "12 of 500" while there are more than 500).
 */
export function listContext(list: RecordList<unknown>, shown: number, what: string): string {
  const filter =
    list.filter === '' ? '' : ` · filter ${list.filterError === null ? `"${list.filter}"` : '(invalid)'}`;
  const count =
    shown === list.items.length
      ? `${shown} ${shown === 1 ? what.replace(/s$/, '') : what}`
      : `${shown} of ${list.items.length} ${what}`;
  let progress = '';
  if (list.itemsFilter !== daemonFilter(list)) progress = ' · loading…';
  else if (list.loadingAfter !== null) progress = ' shown, loading more…';
  else if (list.more) progress = ' shown, more below';
  const failed = list.error === null || list.items.length === 0 ? '' : ` · could not load: ${list.error}`;
  return `${count}${progress}, newest first${filter}${failed}`;
}

export function listEmptyText(list: RecordList<unknown>, what: string): string {
  if (list.error !== null) return `could not load ${what}: ${list.error}`;
  if (!list.loaded || list.itemsFilter !== daemonFilter(list)) return `loading ${what}…`;
  if (list.items.length === 0) return list.filter === '' ? `no ${what} yet` : `no ${what} match the filter`;
  return list.more
    ? `none of the ${list.items.length} ${what} loaded match the filter: ↓ loads more`
    : `no ${what} match the filter`;
}

/** One answer of the daemon: the newest records (`after` null) or the page after a key. */
export interface Page<T> {
  /** The daemon filter it was asked with. */
  readonly filter: string;
  readonly after: string | null;
  readonly items: readonly T[];
  readonly more: boolean;
}

export interface ListSpec<T> {
  readonly key: (item: T) => string;
  /** What `/` looks at: what the row shows, so a match is always visible. */
  readonly fields: (item: T) => readonly string[];
}

/** The fields are the ones the daemon's text filter looks at (shared/record-text.ts). */
export const RUN_LIST: ListSpec<RunRecord> = {
  key: (run) => run.id,
  fields: (run) =>
    runTextFields({
      ...run,
      errorCode: run.error?.code ?? null,
      errorMessage: run.error?.message ?? null,
    }),
};

export const ALERT_LIST: ListSpec<AlertRecord> = {
  key: (alert) => String(alert.id),
  fields: (alert) => alertTextFields({ ...alert, runId: alert.run_id }),
};

export function createRecordList<T>(): RecordList<T> {
  return {
    items: [],
    loaded: false,
    error: null,
    selected: null,
    filter: '',
    filterEditing: false,
    filterBefore: '',
    filterError: null,
    itemsFilter: null,
    more: false,
    loadingAfter: null,
  };
}

/**
 * What the daemon filters: the `/` filter when it is plain text (`!` inverts it), the daemon and
 * the console matching it alike; '' for none, or for a regular expression, which is applied to
 * what is loaded (the daemon takes no expressions: one could hold its event loop for minutes).
 */
export function daemonFilter(list: RecordList<unknown>): string {
  return list.filterError === null && isPlainFilter(list.filter) ? list.filter : '';
}

/** The `text` and `invert_text` params of `runs` and `alerts` for a daemon filter. */
export function filterParams(filter: string): { text?: string; invert_text?: boolean } {
  const invert = filter.startsWith('!');
  const text = invert ? filter.slice(1) : filter;
  return text === '' ? {} : { text, invert_text: invert };
}

/** The records the view shows, in the daemon's order; an invalid filter shows everything. */
export function visibleRecords<T>(list: RecordList<T>, spec: ListSpec<T>): readonly T[] {
  if (list.filter === '' || list.filterError !== null) return list.items;
  const matcher = compileMatcher(list.filter);
  return matcher.ok ? list.items.filter((item) => matcher.test(spec.fields(item))) : list.items;
}

export function selectedRecordIndex<T>(
  list: RecordList<T>,
  spec: ListSpec<T>,
  visible: readonly T[],
): number {
  if (visible.length === 0) return -1;
  const index = list.selected === null ? -1 : visible.findIndex((item) => spec.key(item) === list.selected);
  return index === -1 ? 0 : index;
}

export function selectedRecord<T>(list: RecordList<T>, spec: ListSpec<T>): T | null {
  const visible = visibleRecords(list, spec);
  return visible[selectedRecordIndex(list, spec, visible)] ?? null;
}

export type ListEdit =
  | { readonly kind: 'move'; readonly delta: number }
  | { readonly kind: 'moveTo'; readonly position: 'first' | 'last' }
  | { readonly kind: 'filterStart' }
  | { readonly kind: 'filterInput'; readonly text: string }
  | { readonly kind: 'filterBackspace' }
  | { readonly kind: 'filterCommit' }
  | { readonly kind: 'filterCancel' }
  /** `:runs failed` opens the view with a filter already typed. */
  | { readonly kind: 'filterSet'; readonly text: string };

function withFilter<T>(list: RecordList<T>, text: string): RecordList<T> {
  const compiled = compileMatcher(text);
  return { ...list, filter: text, filterError: compiled.ok ? null : compiled.error };
}

function lastKey<T>(list: RecordList<T>, spec: ListSpec<T>, items = list.items): string | null {
  const last = items.at(-1);
  return last === undefined ? null : spec.key(last);
}

/** After a move: near the end of what is loaded, with more to come, ask for the next page. */
function loadAhead<T>(list: RecordList<T>, spec: ListSpec<T>): RecordList<T> {
  if (!list.more || list.loadingAfter !== null || list.itemsFilter !== daemonFilter(list)) return list;
  const visible = visibleRecords(list, spec);
  // With nothing loaded matching a regular expression, any move looks further.
  if (visible.length > 0 && selectedRecordIndex(list, spec, visible) < visible.length - LOAD_AHEAD)
    return list;
  return { ...list, loadingAfter: lastKey(list, spec) };
}

export function editRecordList<T>(list: RecordList<T>, spec: ListSpec<T>, edit: ListEdit): RecordList<T> {
  switch (edit.kind) {
    case 'move':
    case 'moveTo': {
      const visible = visibleRecords(list, spec);
      if (visible.length === 0) return loadAhead(list, spec);
      const current = selectedRecordIndex(list, spec, visible);
      const target =
        edit.kind === 'move' ? current + edit.delta : edit.position === 'first' ? 0 : visible.length - 1;
      const item = visible[Math.min(Math.max(target, 0), visible.length - 1)];
      return item === undefined ? list : loadAhead({ ...list, selected: spec.key(item) }, spec);
    }
    case 'filterStart':
      return { ...list, filterEditing: true, filterBefore: list.filter };
    case 'filterInput':
      return withFilter(list, list.filter + edit.text);
    case 'filterBackspace':
      return withFilter(list, list.filter.slice(0, -1));
    case 'filterCommit':
      return { ...list, filterEditing: false };
    case 'filterCancel':
      return { ...withFilter(list, list.filterBefore), filterEditing: false };
    case 'filterSet':
      return { ...withFilter(list, edit.text), filterEditing: false };
  }
}

/**
 * A page from the daemon. An answer to a filter no longer typed is dropped. The newest records
 * replace the head of the list (the older pages already loaded stay below them); a next page is
 * appended when it still follows the last item.
 */
export function loadPage<T>(list: RecordList<T>, spec: ListSpec<T>, page: Page<T>): RecordList<T> {
  if (page.filter !== daemonFilter(list)) return list;
  if (page.after !== null) {
    if (list.itemsFilter !== page.filter || page.after !== lastKey(list, spec)) return list;
    const known = new Set(list.items.map(spec.key));
    const items = [...list.items, ...page.items.filter((item) => !known.has(spec.key(item)))];
    return { ...list, items, more: page.more, loadingAfter: null, error: null };
  }
  let items = page.items;
  let more = page.more;
  if (list.itemsFilter === page.filter) {
    // Keep the older pages below the fresh head, from the first record after the head's last.
    const headLast = lastKey(list, spec, page.items);
    const at = headLast === null ? -1 : list.items.findIndex((item) => spec.key(item) === headLast);
    const tail = at === -1 ? [] : list.items.slice(at + 1);
    if (tail.length > 0) {
      items = [...page.items, ...tail];
      more = list.more;
    }
  }
  const loadingAfter = list.loadingAfter === lastKey(list, spec, items) ? list.loadingAfter : null;
  return { ...list, items, more, loadingAfter, itemsFilter: page.filter, loaded: true, error: null };
}
