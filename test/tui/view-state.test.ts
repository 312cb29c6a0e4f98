import { describe, expect, it } from 'vitest';
import { compileFilter } from '../../tui/console/state/filter.js';
import { sortPipelines, visiblePipelines } from '../../tui/console/state/sort.js';
import {
  createViewState,
  pipelineStateFor,
  targetPipeline,
  viewReducer,
  visibleOf,
  type ViewAction,
  type ViewState,
} from '../../tui/console/state/view-state.js';
import { NOW, iso, logLine, part, pipeline, run } from './fixtures.js';

function reduce(state: ViewState, ...actions: ViewAction[]): ViewState {
  return actions.reduce(viewReducer, state);
}

const FLEET = [
  pipeline({ name: 'orders', state: 'running' }),
  pipeline({
    name: 'customers',
    state: 'failed',
    last_run: run({ pipeline: 'customers', status: 'failed' }),
  }),
  pipeline({ name: 'invoices', state: 'idle', paused: true, destination: 'bigquery' }),
  pipeline({ name: 'orders_eu', state: 'idle', next_run_at: iso(60) }),
  pipeline({ name: 'broken', state: 'invalid', last_run: null, next_run_at: null }),
];

function loaded(): ViewState {
  return reduce(createViewState(), { type: 'pipelines', pipelines: FLEET });
}

describe('filter', () => {
  const names = (text: string): string[] =>
    visiblePipelines(FLEET, text, { key: 'name', descending: false }).map((p) => p.name);

  it('matches substrings case-insensitively on what the table shows', () => {
    expect(names('ORD')).toEqual(['orders', 'orders_eu']);
    expect(names('failed')).toEqual(['customers']);
    expect(names('paused')).toEqual(['invoices']);
    expect(names('bigquery')).toEqual(['invoices']);
    expect(names('zzz')).toEqual([]);
  });

  it('treats regular expression syntax as a regex', () => {
    expect(names('^orders$')).toEqual(['orders']);
    expect(names('eu|voi')).toEqual(['invoices', 'orders_eu']);
    expect(names('^inv')).toEqual(['broken', 'invoices']);
  });

  it('inverts with a leading !', () => {
    expect(names('!ord')).toEqual(['broken', 'customers', 'invoices']);
    expect(names('!^o')).toEqual(['broken', 'customers', 'invoices']);
    expect(names('!')).toHaveLength(5);
  });

  it('reports an invalid regex instead of throwing', () => {
    const result = compileFilter('(orders');
    expect(result.ok).toBe(false);
    expect(!result.ok && result.error).toContain('(orders');
    // The table keeps showing everything while the regex is broken.
    expect(names('(orders')).toHaveLength(5);
  });
});

describe('sort', () => {
  it('sorts by state with problems first, by next run with unscheduled last, by rows', () => {
    const byState = sortPipelines(FLEET, { key: 'state', descending: false }).map((p) => p.name);
    expect(byState).toEqual(['customers', 'broken', 'orders', 'invoices', 'orders_eu']);
    const byNext = sortPipelines(FLEET, { key: 'next_run', descending: false }).map((p) => p.name);
    expect(byNext[0]).toBe('orders_eu');
    expect(byNext.at(-1)).toBe('broken');
    const reversed = sortPipelines(FLEET, { key: 'name', descending: true }).map((p) => p.name);
    expect(reversed[0]).toBe('orders_eu');
  });
});

describe('viewReducer', () => {
  it('selects the first row when pipelines arrive and keeps the selection by name', () => {
    let state = loaded();
    expect(state.selected).toBe('broken');
    state = reduce(state, { type: 'move', delta: 2 });
    expect(state.selected).toBe('invoices');
    state = reduce(state, { type: 'sortReverse' });
    expect(state.selected).toBe('invoices');
    state = reduce(state, { type: 'pipelines', pipelines: FLEET.filter((p) => p.name !== 'invoices') });
    // The selection vanished: the first row of the current (reversed) order is selected.
    expect(state.selected).toBe('orders_eu');
  });

  it('clamps movement at both ends and pages', () => {
    let state = reduce(loaded(), { type: 'move', delta: -5 });
    expect(state.selected).toBe('broken');
    state = reduce(state, { type: 'move', delta: 100 });
    expect(state.selected).toBe('orders_eu');
    state = reduce(state, { type: 'moveTo', position: 'first' });
    expect(state.selected).toBe('broken');
    state = reduce(state, { type: 'moveTo', position: 'last' });
    expect(state.selected).toBe('orders_eu');
    expect(reduce(createViewState(), { type: 'move', delta: 1 }).selected).toBeNull();
  });

  it('edits the filter live, commits with enter and restores with esc', () => {
    let state = reduce(loaded(), { type: 'filterStart' }, { type: 'filterInput', text: 'ord' });
    expect(state.filterEditing).toBe(true);
    expect(visibleOf(state).map((p) => p.name)).toEqual(['orders', 'orders_eu']);
    expect(targetPipeline(state)?.name).toBe('orders');
    state = reduce(state, { type: 'filterCommit' });
    expect(state.filterEditing).toBe(false);
    expect(state.filter).toBe('ord');
    state = reduce(
      state,
      { type: 'filterStart' },
      { type: 'filterBackspace' },
      { type: 'filterInput', text: '(' },
    );
    expect(state.filterError).toContain('invalid regular expression');
    expect(visibleOf(state)).toHaveLength(5);
    state = reduce(state, { type: 'filterCancel' });
    expect(state.filter).toBe('ord');
    expect(state.filterError).toBeNull();
    state = reduce(state, { type: 'back' });
    expect(state.filter).toBe('');
  });

  it('cycles sort keys', () => {
    let state = loaded();
    const keys: string[] = [];
    for (let i = 0; i < 5; i++) {
      state = reduce(state, { type: 'sortNext' });
      keys.push(state.sort.key);
    }
    expect(keys).toEqual(['state', 'next_run', 'last_run', 'rows', 'name']);
  });

  it('applies run state changes and drops progress when a run ends', () => {
    const progress = {
      run_id: 'run-9',
      attempt_id: 'run-9-1',
      pipeline: 'orders',
      rows: 10,
      bytes: 0,
      rows_per_s: 5,
      phase: 'extracting' as const,
      parts: [part()],
    };
    let state = reduce(loaded(), { type: 'progress', event: progress });
    expect(state.progress.orders?.rows).toBe(10);
    state = reduce(state, {
      type: 'runState',
      event: {
        run_id: 'run-9',
        attempt_id: 'run-9-1',
        pipeline: 'orders',
        status: 'succeeded',
        attempt: 1,
        at: iso(0),
        rows_loaded: 10,
        error: null,
      },
    });
    expect(state.progress.orders).toBeUndefined();
    expect(state.pipelines.find((p) => p.name === 'orders')?.state).toBe('idle');
    // Progress for an unknown pipeline is ignored.
    expect(reduce(state, { type: 'progress', event: { ...progress, pipeline: 'nope' } }).progress).toEqual(
      {},
    );
  });

  it('keeps one run across its attempts: retrying, running again, then its final status', () => {
    let state = reduce(loaded(), {
      type: 'runState',
      event: {
        run_id: 'run-1',
        attempt_id: 'run-1-1',
        pipeline: 'orders',
        status: 'running',
        attempt: 1,
        at: iso(0),
        rows_loaded: 0,
        error: null,
      },
    });
    const error = { code: 'SOURCE_CONNECTION' as const, message: 'refused' };
    state = reduce(state, {
      type: 'runState',
      event: {
        run_id: 'run-1',
        attempt_id: 'run-1-1',
        pipeline: 'orders',
        status: 'retrying',
        attempt: 1,
        at: iso(1),
        rows_loaded: 0,
        error,
      },
    });
    expect(state.pipelines.find((p) => p.name === 'orders')).toMatchObject({
      state: 'retrying',
      last_run: { id: 'run-1', status: 'retrying', finished_at: null, error },
    });
    state = reduce(state, {
      type: 'runState',
      event: {
        run_id: 'run-1',
        attempt_id: 'run-1-2',
        pipeline: 'orders',
        status: 'succeeded',
        attempt: 2,
        at: iso(9),
        rows_loaded: 7,
        error: null,
      },
    });
    expect(state.pipelines.find((p) => p.name === 'orders')).toMatchObject({
      state: 'idle',
      last_run: { id: 'run-1', status: 'succeeded', attempt: 2, rows_loaded: 7 },
    });
  });

  it('updates the last run in place when the event is about it', () => {
    const state = reduce(loaded(), {
      type: 'runState',
      event: {
        run_id: 'run-1',
        attempt_id: 'run-1-1',
        pipeline: 'customers',
        status: 'failed',
        attempt: 3,
        at: iso(0),
        rows_loaded: 0,
        error: { code: 'SOURCE_CONNECTION', message: 'refused' },
      },
    });
    const customers = state.pipelines.find((p) => p.name === 'customers');
    expect(customers?.last_run?.attempt).toBe(3);
    expect(customers?.last_run?.error?.code).toBe('SOURCE_CONNECTION');
    expect(customers?.last_run?.finished_at).toBe(iso(0));
  });

  it('maps run statuses to pipeline states', () => {
    expect(pipelineStateFor('queued', 'idle')).toBe('waiting');
    expect(pipelineStateFor('running', 'idle')).toBe('running');
    expect(pipelineStateFor('retrying', 'running')).toBe('retrying');
    expect(pipelineStateFor('failed', 'running')).toBe('failed');
    expect(pipelineStateFor('succeeded', 'running')).toBe('idle');
    expect(pipelineStateFor('cancelled', 'invalid')).toBe('invalid');
  });

  it('opens details and logs for the selection and goes back the way it came', () => {
    let state = reduce(loaded(), { type: 'move', delta: 1 }, { type: 'openDetail' });
    expect(state.screen).toBe('detail');
    expect(state.detail?.pipeline).toBe('customers');
    state = reduce(state, { type: 'openLogs' });
    expect(state.screen).toBe('logs');
    expect(state.logs?.pipeline).toBe('customers');
    state = reduce(state, { type: 'back' });
    expect(state.screen).toBe('detail');
    state = reduce(state, { type: 'back' });
    expect(state.screen).toBe('table');
    expect(state.detail).toBeNull();
    state = reduce(state, { type: 'openLogs' }, { type: 'back' });
    expect(state.screen).toBe('table');
  });

  it('ignores detail results for a pipeline no longer on screen', () => {
    let state = reduce(loaded(), { type: 'openDetail' });
    state = reduce(state, { type: 'detailFailed', pipeline: 'orders', error: 'late' });
    expect(state.detail?.error).toBeNull();
    state = reduce(state, { type: 'detailFailed', pipeline: 'broken', error: '[NOT_FOUND] gone' });
    expect(state.detail?.error).toBe('[NOT_FOUND] gone');
  });

  it('queues commands and removes the ones taken', () => {
    let state = reduce(
      loaded(),
      { type: 'enqueue', command: { kind: 'start', pipeline: 'orders', retry: false } },
      { type: 'enqueue', command: { kind: 'quit' } },
    );
    expect(state.outbox.map((c) => c.id)).toEqual([1, 2]);
    state = reduce(
      state,
      { type: 'commandsTaken', throughId: 1 },
      { type: 'enqueue', command: { kind: 'quit' } },
    );
    expect(state.outbox.map((c) => c.id)).toEqual([2, 3]);
  });

  it('batches apply in order', () => {
    const state = reduce(createViewState(), {
      type: 'batch',
      actions: [
        { type: 'connection', state: 'connected', detail: null },
        { type: 'pipelines', pipelines: FLEET },
        { type: 'notice', notice: { text: 'hi', tone: 'info' } },
      ],
    });
    expect(state.connection).toBe('connected');
    expect(state.loaded).toBe(true);
    expect(state.notice?.text).toBe('hi');
  });

  it('keeps the info arrival time so uptime keeps counting', () => {
    const state = reduce(createViewState(), {
      type: 'info',
      at: NOW,
      info: {
        version: '1',
        protocol: 1,
        host: 'h',
        pid: 1,
        started_at: iso(0),
        uptime_s: 5,
        watermarks: [],
        state: 'running',
        home: null,
        pipelines: {},
        resources: null,
      },
    });
    expect(state.infoReceivedAt).toBe(NOW);
    expect(state.resources).toBeNull();
  });
});

describe('log view', () => {
  function logs(): ViewState {
    return reduce(loaded(), { type: 'moveTo', position: 'last' }, { type: 'openLogs' });
  }
  const lines = (from: number, count: number, pipelineName = 'orders_eu') =>
    Array.from({ length: count }, (_, i) => logLine(`line ${from + i}`, { pipeline: pipelineName }));

  it('keeps a bounded buffer and counts what it dropped', () => {
    let state = reduce(logs(), {
      type: 'logLines',
      pipeline: 'orders_eu',
      lines: lines(0, 1500),
      replace: true,
    });
    state = reduce(state, {
      type: 'logLines',
      pipeline: 'orders_eu',
      lines: lines(1500, 1000),
      replace: false,
    });
    expect(state.logs?.lines).toHaveLength(2000);
    expect(state.logs?.lines[0]?.message).toBe('line 500');
    expect(state.logs?.dropped).toBe(500);
  });

  it('ignores lines of another pipeline', () => {
    const state = reduce(logs(), {
      type: 'logLines',
      pipeline: 'orders',
      lines: lines(0, 3, 'orders'),
      replace: false,
    });
    expect(state.logs?.lines).toHaveLength(0);
  });

  it('holds the view still while paused and follows again on resume', () => {
    let state = reduce(logs(), {
      type: 'logLines',
      pipeline: 'orders_eu',
      lines: lines(0, 50),
      replace: true,
    });
    state = reduce(state, { type: 'logsScroll', delta: 5 });
    expect(state.logs?.paused).toBe(true);
    expect(state.logs?.scroll).toBe(5);
    state = reduce(state, { type: 'logLines', pipeline: 'orders_eu', lines: lines(50, 3), replace: false });
    expect(state.logs?.scroll).toBe(8);
    expect(state.logs?.unseen).toBe(3);
    state = reduce(state, { type: 'logsScroll', delta: 1000 });
    expect(state.logs?.scroll).toBe(52);
    state = reduce(state, { type: 'logsTogglePause' });
    expect(state.logs).toMatchObject({ paused: false, scroll: 0, unseen: 0 });
    state = reduce(state, { type: 'logsTogglePause' }, { type: 'logsScroll', delta: -3 });
    expect(state.logs).toMatchObject({ paused: false, scroll: 0 });
  });

  it('jumps between matches of the search, older and newer', () => {
    let state = reduce(logs(), {
      type: 'logLines',
      pipeline: 'orders_eu',
      lines: [logLine('ERROR one'), logLine('ok'), logLine('error two'), logLine('ok'), logLine('fine')].map(
        (l) => ({
          ...l,
          pipeline: 'orders_eu',
        }),
      ),
      replace: true,
    });
    state = reduce(
      state,
      { type: 'searchStart' },
      { type: 'searchInput', text: 'error' },
      { type: 'searchCommit' },
    );
    state = reduce(state, { type: 'searchJump', direction: 'older' });
    expect(state.logs).toMatchObject({ paused: true, scroll: 2 });
    state = reduce(state, { type: 'searchJump', direction: 'older' });
    expect(state.logs?.scroll).toBe(4);
    // No older match: stay.
    state = reduce(state, { type: 'searchJump', direction: 'older' });
    expect(state.logs?.scroll).toBe(4);
    state = reduce(state, { type: 'searchJump', direction: 'newer' });
    expect(state.logs?.scroll).toBe(2);
  });

  it('reports an invalid search pattern and restores the previous one on esc', () => {
    let state = reduce(
      logs(),
      { type: 'searchStart' },
      { type: 'searchInput', text: 'a' },
      { type: 'searchCommit' },
    );
    state = reduce(state, { type: 'searchStart' }, { type: 'searchInput', text: '[' });
    expect(state.logs?.searchError).toContain('invalid regular expression');
    state = reduce(state, { type: 'searchJump', direction: 'older' });
    state = reduce(state, { type: 'searchCancel' });
    expect(state.logs).toMatchObject({ search: 'a', searchError: null, searchEditing: false });
  });

  it('does nothing to log state when no pane is open', () => {
    const state = loaded();
    expect(reduce(state, { type: 'logsTogglePause' })).toBe(state);
  });
});
