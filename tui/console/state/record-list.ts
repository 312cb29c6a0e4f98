/**
 * The fleet-wide lists of the `:runs` and `:alerts` views: records as the daemon sent them (newest
 * first), a `/` filter over the fields each row shows, and a selection kept by key so it survives
 * refreshes. Pure: the view reducer applies these to the list on screen.
 */
import type { AlertRecord, RunRecord } from '../../../shared/protocol.js';
import { firstLine } from '../format/text.js';
import { compileMatcher } from './filter.js';

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
}

export interface ListSpec<T> {
  readonly key: (item: T) => string;
  /** What `/` looks at: what the row shows, so a match is always visible. */
  readonly fields: (item: T) => readonly string[];
}

export const RUN_LIST: ListSpec<RunRecord> = {
  key: (run) => run.id,
  fields: (run) => [
    run.id,
    run.pipeline,
    run.status,
    run.trigger,
    run.error?.code ?? '',
    run.error === null ? '' : firstLine(run.error.message).line,
  ],
};

export const ALERT_LIST: ListSpec<AlertRecord> = {
  key: (alert) => String(alert.id),
  fields: (alert) => [alert.pipeline, alert.kind, alert.status, alert.run_id ?? '', alert.subject],
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
  };
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

export function editRecordList<T>(list: RecordList<T>, spec: ListSpec<T>, edit: ListEdit): RecordList<T> {
  switch (edit.kind) {
    case 'move':
    case 'moveTo': {
      const visible = visibleRecords(list, spec);
      if (visible.length === 0) return list;
      const current = selectedRecordIndex(list, spec, visible);
      const target =
        edit.kind === 'move' ? current + edit.delta : edit.position === 'first' ? 0 : visible.length - 1;
      const item = visible[Math.min(Math.max(target, 0), visible.length - 1)];
      return item === undefined ? list : { ...list, selected: spec.key(item) };
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

/** New records from the daemon; the selection stays on its record while it is still listed. */
export function loadRecordList<T>(list: RecordList<T>, items: readonly T[]): RecordList<T> {
  return { ...list, items, loaded: true, error: null };
}
