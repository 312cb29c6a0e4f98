/** Sorting and filtering the pipeline list into what the table shows. */
import type { PipelineSummary } from '../../../shared/protocol.js';
import { compileFilter } from './filter.js';

export const SORT_KEYS = ['name', 'state', 'next_run', 'last_run', 'rows'] as const;
export type SortKey = (typeof SORT_KEYS)[number];

export interface SortOrder {
  readonly key: SortKey;
  readonly descending: boolean;
}

/** Problems first: the order an operator triages in. */
const STATE_RANK: Record<string, number> = {
  failed: 0,
  invalid: 1,
  retrying: 2,
  running: 3,
  waiting: 4,
  paused: 5,
  idle: 6,
};

function displayState(pipeline: PipelineSummary): string {
  return pipeline.paused && pipeline.state === 'idle' ? 'paused' : pipeline.state;
}

function timeOf(iso: string | null | undefined): number {
  if (iso === null || iso === undefined) return Number.POSITIVE_INFINITY;
  const value = Date.parse(iso);
  return Number.isNaN(value) ? Number.POSITIVE_INFINITY : value;
}

function compareBy(key: SortKey, a: PipelineSummary, b: PipelineSummary): number {
  switch (key) {
    case 'name':
      return a.name.localeCompare(b.name);
    case 'state':
      return (STATE_RANK[displayState(a)] ?? 9) - (STATE_RANK[displayState(b)] ?? 9);
    case 'next_run':
      return timeOf(a.next_run_at) - timeOf(b.next_run_at);
    case 'last_run': {
      // Most recent first reads naturally for "last run"; never-run pipelines go last.
      const at = (p: PipelineSummary): number =>
        -timeOf(p.last_run?.finished_at ?? p.last_run?.started_at ?? null);
      return at(a) - at(b);
    }
    case 'rows':
      return (b.last_run?.rows_loaded ?? -1) - (a.last_run?.rows_loaded ?? -1);
  }
}

export function sortPipelines(pipelines: readonly PipelineSummary[], order: SortOrder): PipelineSummary[] {
  const sorted = [...pipelines].sort((a, b) => {
    const primary = compareBy(order.key, a, b);
    // Infinity - Infinity is NaN for two missing times; treat them as equal.
    const value = Number.isNaN(primary) || primary === 0 ? a.name.localeCompare(b.name) : primary;
    return order.descending ? -value : value;
  });
  return sorted;
}

/** Filter then sort; an invalid filter shows everything (its error is displayed separately). */
export function visiblePipelines(
  pipelines: readonly PipelineSummary[],
  filterText: string,
  order: SortOrder,
): PipelineSummary[] {
  const filter = compileFilter(filterText);
  const kept = filter.ok && filterText !== '' ? pipelines.filter(filter.test) : pipelines;
  return sortPipelines(kept, order);
}

export function nextSortKey(key: SortKey): SortKey {
  const index = SORT_KEYS.indexOf(key);
  return SORT_KEYS[(index + 1) % SORT_KEYS.length] ?? 'name';
}
