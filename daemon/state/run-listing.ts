/**
 * A run listing (`runs`, `history`) in bounded steps: a filter few runs match walks the whole
 * history, so the store examines a window of runs at a time and the event loop is let go in
 * between (the scheduler, the other connections), rather than held for seconds.
 */
import type { RunFilter, RunRow, StateStore } from './store.js';

export async function findRunsInSteps(
  store: Pick<StateStore, 'scanRuns'>,
  filter: RunFilter,
  window?: number,
): Promise<RunRow[][]> {
  const found: RunRow[][] = [];
  let before = filter.before;
  for (;;) {
    const scan = store.scanRuns(
      { ...filter, limit: filter.limit - found.length, ...(before === undefined ? {} : { before }) },
      window,
    );
    found.push(...scan.runs);
    if (found.length >= filter.limit || scan.scannedTo === null) return found;
    before = scan.scannedTo;
    await new Promise((resolve) => setImmediate(resolve));
  }
}
