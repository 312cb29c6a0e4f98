/**
 * The palette, the fleet-wide lists, details on demand, the YAML view and the log pane's wrap and
 * sideways scroll, as the reducer and the key map see them (no terminal).
 */
import { describe, expect, it } from 'vitest';
import type { AlertRecord } from '../../shared/protocol.js';
import { consoleReducer } from '../../tui/console/state/console-reducer.js';
import type { KeyOptions, KeyPress } from '../../tui/console/state/keymap.js';
import { completePalette, paletteSuggestions, parsePalette } from '../../tui/console/state/palette.js';
import type { RunRecord } from '../../shared/protocol.js';
import {
  daemonFilter,
  listContext,
  listRequest,
  RUN_LIST,
  visibleRecords,
  type Page,
} from '../../tui/console/state/record-list.js';
import { createViewState, viewReducer, type ViewState } from '../../tui/console/state/view-state.js';
import { logLine, pipeline, run, status } from './fixtures.js';

const OPTIONS: KeyOptions = { readonly: false, pageSize: 10 };

/** The newest records, as the daemon answers the list without a filter. */
function firstPage<T>(items: readonly T[], more = false, filter = ''): Page<T> {
  return { filter, after: null, items, more };
}

function keys(state: ViewState, ...presses: (string | KeyPress)[]): ViewState {
  return presses.reduce<ViewState>(
    (s, press) =>
      typeof press === 'string'
        ? consoleReducer(s, { type: 'key', input: press, key: {}, options: OPTIONS })
        : consoleReducer(s, { type: 'key', input: '', key: press, options: OPTIONS }),
    state,
  );
}

const RUNS = [
  run({
    id: 'orders_from_the_eu_shop_shards-12',
    pipeline: 'orders_from_the_eu_shop_shards',
    status: 'running',
  }),
  run({
    id: 'customers-7',
    pipeline: 'customers',
    status: 'failed',
    attempt: 3,
    error: {
      code: 'SOURCE_CONNECTION',
      message: 'connect ECONNREFUSED 10.0.0.5:5432\n    at TCPConnectWrap',
    },
  }),
  run({ id: 'customers-6', pipeline: 'customers', status: 'succeeded' }),
  run({
    id: 'invoices-3',
    pipeline: 'invoices',
    status: 'failed',
    error: { code: 'SOURCE_QUERY', message: 'x' },
  }),
];

const ALERT: AlertRecord = {
  id: 9,
  pipeline: 'customers',
  kind: 'failure',
  run_id: 'customers-7',
  created_at: '2026-03-10T11:00:00.000Z',
  status: 'failed',
  recipients: 'oncall@example.com',
  subject: '[etld] customers FAILED after 3 attempts: SOURCE_CONNECTION',
  detail: 'SMTP is not configured (smtp in etld.yaml)',
};

function loaded(): ViewState {
  return viewReducer(createViewState(), {
    type: 'pipelines',
    pipelines: [
      pipeline({ name: 'customers', state: 'failed', last_run: RUNS[1]! }),
      pipeline({ name: 'invoices' }),
      pipeline({ name: 'orders_from_the_eu_shop_shards', state: 'running' }),
    ],
  });
}

describe('the : palette', () => {
  it('parses views with aliases and arguments, completes a unique prefix, lists what matches', () => {
    expect(parsePalette('runs failed')).toEqual({ ok: true, command: 'runs', argument: 'failed' });
    expect(parsePalette(':a')).toEqual({ ok: true, command: 'alerts', argument: '' });
    expect(parsePalette('p')).toEqual({ ok: true, command: 'pipelines', argument: '' });
    expect(parsePalette('logs orders')).toEqual({ ok: true, command: 'logs', argument: 'orders' });
    expect(parsePalette('nodes')).toEqual({
      ok: false,
      error: 'unknown view ":nodes"; try :pipelines :runs :alerts :logs :hosts',
    });
    expect(completePalette('ru')).toBe('runs ');
    expect(completePalette('x')).toBe('x');
    expect(parsePalette(':h')).toEqual({ ok: true, command: 'hosts', argument: '' });
    expect(completePalette('ho')).toBe('hosts ');
    expect(paletteSuggestions('')).toEqual(['pipelines', 'runs', 'alerts', 'logs', 'hosts', 'quit']);
    expect(paletteSuggestions('l')).toEqual(['logs']);
  });

  it(': opens it on any screen; typing, tab and enter switch views; esc and backspace close it', () => {
    let s = keys(loaded(), ':');
    expect(s.palette).toEqual({ text: '' });
    s = keys(s, 'r', 'u', { tab: true });
    expect(s.palette?.text).toBe('runs ');
    // Typed faster than a render (tmux send-keys): one read of several characters.
    s = keys(s, 'failed', { return: true });
    expect(s.palette).toBeNull();
    expect(s.screen).toBe('runs');
    expect(s.runs.filter).toBe('failed');
    s = keys(s, ':', { backspace: true });
    expect(s.palette).toBeNull();
    s = keys(s, ':', 'x', { escape: true });
    expect(s.palette).toBeNull();
    expect(s.screen).toBe('runs');
    s = keys(s, ':nope', { return: true });
    expect(s.notice?.text).toContain('unknown view ":nope"');
    s = keys(s, ':alerts', { return: true });
    expect(s.screen).toBe('alerts');
    s = keys(s, ':logs', { return: true });
    expect(s.screen).toBe('logs');
    expect(s.logs?.pipeline).toBeNull();
    s = keys(s, ':logs invoices', { return: true });
    expect(s.logs?.pipeline).toBe('invoices');
    s = keys(s, ':logs ghost', { return: true });
    expect(s.notice?.text).toBe('no pipeline named "ghost"');
    s = keys(s, ':p', { return: true });
    expect(s.screen).toBe('table');
    expect(s.logs).toBeNull();
    expect(keys(s, ':q', { return: true }).outbox.at(-1)?.command).toEqual({ kind: 'quit' });
  });
});

describe(':hosts', () => {
  const answer = {
    fleet: true,
    this_host: 'etl-a',
    hosts: [
      {
        host: 'etl-a',
        pid: 1,
        version: '0.2.0',
        started_at: '2026-03-10T10:00:00.000Z',
        heartbeat_at: '2026-03-10T11:59:58.000Z',
        health: 'alive' as const,
        running: ['orders'],
      },
    ],
  };

  it('opens from the palette (no argument), keeps the last answer, offers no actions, esc goes back', () => {
    let s = keys(loaded(), ':hosts', { return: true });
    expect(s.screen).toBe('hosts');
    expect(s.hosts).toEqual({ result: null, error: null });
    s = viewReducer(s, { type: 'hostsLoaded', result: answer });
    expect(s.hosts.result).toEqual(answer);
    s = viewReducer(s, { type: 'hostsFailed', error: '[DAEMON_UNREACHABLE] gone' });
    expect(s.hosts).toEqual({ result: answer, error: '[DAEMON_UNREACHABLE] gone' });
    // Action keys have no pipeline here: nothing is queued, nothing is asked.
    const acted = keys(s, 's', 'x', 'p', 'F');
    expect(acted.outbox).toEqual([]);
    expect(acted.confirm).toBeNull();
    s = keys(s, { escape: true });
    expect(s.screen).toBe('table');
    s = keys(s, ':h', { return: true });
    expect(s.hosts.result).toEqual(answer);
    expect(keys(loaded(), ':hosts etl-b', { return: true }).notice?.text).toBe(':hosts takes no argument');
  });
});

describe(':runs', () => {
  it('lists every run newest first and filters as you type; esc clears the filter, then goes back', () => {
    let s = keys(loaded(), ':runs', { return: true });
    s = viewReducer(s, { type: 'runsLoaded', page: firstPage(RUNS) });
    expect(visibleRecords(s.runs, RUN_LIST).map((r) => r.id)).toEqual(RUNS.map((r) => r.id));
    s = keys(s, '/', 'f', 'a', 'i', 'l');
    expect(s.runs.filterEditing).toBe(true);
    expect(visibleRecords(s.runs, RUN_LIST).map((r) => r.id)).toEqual(['customers-7', 'invoices-3']);
    s = keys(s, { return: true });
    expect(s.runs.filterEditing).toBe(false);
    // Error codes and messages are searchable too; regex syntax and ! work as in the table.
    s = keys(s, '/', { backspace: true }, { backspace: true }, { backspace: true }, { backspace: true });
    s = keys(s, 'ECONN', { return: true });
    expect(visibleRecords(s.runs, RUN_LIST).map((r) => r.id)).toEqual(['customers-7']);
    s = keys(s, { escape: true });
    expect(s.runs.filter).toBe('');
    expect(s.screen).toBe('runs');
    s = keys(s, { escape: true });
    expect(s.screen).toBe('table');
  });

  it('enter or d shows the selected run with its whole error; l and y act on its pipeline', () => {
    let s = viewReducer(keys(loaded(), ':runs', { return: true }), {
      type: 'runsLoaded',
      page: firstPage(RUNS),
    });
    s = keys(s, 'j', { return: true });
    expect(s.details?.title).toBe('run customers-7 · failed');
    expect(s.details?.body).toContain(
      'error SOURCE_CONNECTION:\nconnect ECONNREFUSED 10.0.0.5:5432\n    at TCPConnectWrap',
    );
    expect(s.details?.body).toContain('attempts:      3');
    // Any key but the arrows closes it without acting.
    s = keys(s, { downArrow: true });
    expect(s.details?.scroll).toBe(1);
    s = keys(s, 's');
    expect(s.details).toBeNull();
    expect(s.outbox).toHaveLength(0);
    s = keys(s, 'd');
    expect(s.details?.title).toBe('run customers-7 · failed');
    s = keys(s, 'x', 'y');
    expect(s.screen).toBe('yaml');
    expect(s.yaml?.pipeline).toBe('customers');
    s = keys(s, { escape: true });
    expect(s.screen).toBe('runs');
    s = keys(s, 'l');
    expect(s.logs?.pipeline).toBe('customers');
    expect(keys(s, { escape: true }).screen).toBe('runs');
  });
});

describe(':runs page by page', () => {
  const many = (from: number, count: number): RunRecord[] =>
    Array.from({ length: count }, (_, i) =>
      run({
        id: `orders-${from - i}`,
        pipeline: 'orders',
        status: (from - i) % 10 === 0 ? 'failed' : 'succeeded',
      }),
    );

  it('asks for the next page near the end, appends it, and says there are more rather than "N of 200"', () => {
    let s = keys(loaded(), ':runs', { return: true });
    expect(listRequest('runs', s.runs)).toEqual({ name: 'runs', filter: '', loadingAfter: null, loaded: 0 });
    s = viewReducer(s, { type: 'runsLoaded', page: firstPage(many(1000, 200), true) });
    expect(listContext(s.runs, 200, 'runs')).toBe('200 runs shown, more below, newest first');
    // Far from the end nothing is asked; within the last 50 rows the next page is.
    s = keys(s, { pageDown: true });
    expect(s.runs.loadingAfter).toBeNull();
    s = keys(s, 'G');
    expect(s.runs.loadingAfter).toBe('orders-801');
    expect(listContext(s.runs, 200, 'runs')).toBe('200 runs shown, loading more…, newest first');
    // Moving again while it is on its way asks for nothing more.
    s = keys(s, 'k', 'j');
    expect(s.runs.loadingAfter).toBe('orders-801');
    // A page after another record (a refresh replaced the tail meanwhile) is not appended.
    const stale = viewReducer(s, {
      type: 'runsLoaded',
      page: { filter: '', after: 'orders-900', items: many(899, 10), more: true },
    });
    expect(stale.runs.items).toHaveLength(200);
    s = viewReducer(s, {
      type: 'runsLoaded',
      page: { filter: '', after: 'orders-801', items: many(800, 200), more: false },
    });
    expect(s.runs.items.map((r) => r.id).slice(199, 201)).toEqual(['orders-801', 'orders-800']);
    expect(s.runs.loadingAfter).toBeNull();
    expect(s.runs.selected).toBe('orders-801');
    expect(listContext(s.runs, 400, 'runs')).toBe('400 runs, newest first');
    // A refresh brings new runs at the head and keeps the older pages below it.
    s = viewReducer(s, { type: 'runsLoaded', page: firstPage([...many(1002, 2), ...many(1000, 399)], true) });
    expect(s.runs.items).toHaveLength(402);
    expect(s.runs.items.at(-1)?.id).toBe('orders-601');
    expect(s.runs.more).toBe(false);
    expect(listRequest('runs', s.runs).loaded).toBe(402);
  });

  it('sends plain-text filters to the daemon and drops answers to filters no longer typed', () => {
    let s = keys(loaded(), ':runs', { return: true });
    s = viewReducer(s, { type: 'runsLoaded', page: firstPage(many(1000, 200), true) });
    s = keys(s, '/', 'o', 'r', 'd', 'e', 'r', 's', '-', '1');
    expect(daemonFilter(s.runs)).toBe('orders-1');
    // Until the daemon answers, what is loaded is filtered on the spot.
    expect(listContext(s.runs, 1, 'runs')).toBe('1 of 200 runs · loading…, newest first · filter "orders-1"');
    expect(keys(s, 'G').runs.loadingAfter).toBeNull();
    const late = viewReducer(s, { type: 'runsLoaded', page: firstPage(many(5, 1), false, 'orders-') });
    expect(late.runs.itemsFilter).toBe('');
    const old = many(105, 100).filter((r) => r.id.startsWith('orders-1'));
    s = viewReducer(s, { type: 'runsLoaded', page: firstPage(old, false, 'orders-1') });
    expect(visibleRecords(s.runs, RUN_LIST).map((r) => r.id)).toEqual(old.map((r) => r.id));
    expect(listRequest('runs', s.runs)).toMatchObject({ filter: 'orders-1', loaded: old.length });
    // `!` inverts on the daemon too; a regular expression is applied to what is loaded.
    s = keys(s, { return: true }, { escape: true }, '/', '!', 'f', 'a', 'i', 'l', { return: true });
    expect(daemonFilter(s.runs)).toBe('!fail');
    s = keys(s, { escape: true }, '/', '^', 'o', 'r', 'd');
    expect(daemonFilter(s.runs)).toBe('');
  });
});

describe('F full refresh and B backfill', () => {
  it('F asks with the destination named; y sends a full refresh, anything else cancels', () => {
    let s = keys(loaded(), 'j', 'F');
    expect(s.confirm?.question).toBe('Full refresh of invoices: replace duckdb with a full reload?');
    expect(keys(s, 'n').notice?.text).toBe('full refresh cancelled');
    expect(keys(s, 'n').outbox).toHaveLength(0);
    s = keys(s, 'y');
    expect(s.confirm).toBeNull();
    expect(s.outbox.at(-1)?.command).toEqual({ kind: 'fullRefresh', pipeline: 'invoices' });
    // Only where a pipeline is the subject: not in :runs.
    expect(keys(loaded(), ':runs', { return: true }, 'F').confirm).toBeNull();
  });

  it('B opens a form naming the cursor column; tab switches fields, enter starts, the daemon refusal shows in it', () => {
    let s = keys(loaded(), 'j', { return: true });
    s = viewReducer(s, {
      type: 'detailLoaded',
      pipeline: 'invoices',
      status: status(pipeline({ name: 'invoices' }), {
        config: { load: { mode: 'merge', cursor: 'updated_at' } },
      }),
      history: [],
      why: [],
    });
    s = keys(s, 'B');
    expect(s.backfill).toMatchObject({ pipeline: 'invoices', cursor: 'updated_at', field: 'from' });
    // Keys go to the form, not to the actions.
    s = keys(s, '2026-02-01', { return: true }, '2026-01-01');
    expect(s.backfill).toMatchObject({ from: '2026-02-01', to: '2026-01-01', field: 'to' });
    expect(s.outbox).toHaveLength(0);
    s = keys(s, { return: true });
    expect(s.backfill?.sending).toBe(true);
    expect(s.outbox.at(-1)?.command).toEqual({
      kind: 'backfill',
      pipeline: 'invoices',
      from: '2026-02-01',
      to: '2026-01-01',
    });
    s = viewReducer(s, {
      type: 'backfillFailed',
      pipeline: 'invoices',
      error: 'backfill invoices failed: [USAGE] empty',
    });
    expect(s.backfill).toMatchObject({ sending: false, error: 'backfill invoices failed: [USAGE] empty' });
    // Fixing a field clears the error; esc closes the form.
    s = keys(s, { tab: true }, { backspace: true });
    expect(s.backfill).toMatchObject({ field: 'from', from: '2026-02-0', error: null });
    expect(keys(s, { escape: true }).backfill).toBeNull();
    // From the table the cursor column is not known yet: the console asks the daemon for it.
    expect(keys(loaded(), 'B').backfill?.cursor).toBeNull();
  });

  it('--readonly refuses F and B; a read-only connection sends F without asking, for the daemon to refuse', () => {
    const readonly = consoleReducer(loaded(), {
      type: 'key',
      input: 'F',
      key: {},
      options: { ...OPTIONS, readonly: true },
    });
    expect(readonly.notice?.text).toBe('read-only console (--readonly): actions are disabled');
    const role = keys(viewReducer(loaded(), { type: 'role', role: 'read-only' }), 'F');
    expect(role.confirm).toBeNull();
    expect(role.outbox.at(-1)?.command).toEqual({ kind: 'fullRefresh', pipeline: 'customers' });
  });
});

describe(':alerts, y and d', () => {
  it('shows an alert in full on enter; offers no actions', () => {
    let s = keys(loaded(), ':alerts', { return: true });
    s = viewReducer(s, { type: 'alertsLoaded', page: firstPage([ALERT]) });
    expect(keys(s, 's', 'x', 'p', 'r').outbox).toHaveLength(0);
    s = keys(s, { return: true });
    expect(s.details?.title).toBe(ALERT.subject);
    expect(s.details?.body).toContain('SMTP is not configured');
    expect(s.details?.body).toContain('run:      customers-7');
  });

  it('y opens the selected pipeline file from the table and the detail view, and scrolls it', () => {
    let s = keys(loaded(), 'y');
    expect(s.screen).toBe('yaml');
    expect(s.yaml).toEqual({ pipeline: 'customers', file: null, error: null, scroll: 0 });
    s = viewReducer(s, {
      type: 'yamlLoaded',
      pipeline: 'customers',
      file: {
        pipeline: 'customers',
        file: '/etc/etld/pipelines/customers.yaml',
        text: Array.from({ length: 40 }, (_, i) => `line${i}: ${i}`).join('\n'),
        bytes: 400,
        modified_at: null,
        truncated: false,
        masked: false,
      },
    });
    s = keys(s, 'j', 'j', { pageDown: true });
    expect(s.yaml?.scroll).toBe(12);
    s = keys(s, 'G');
    expect(s.yaml?.scroll).toBe(39);
    s = keys(s, 'g', { escape: true }, { return: true }, 'y');
    expect(s.screen).toBe('yaml');
    expect(keys(s, { escape: true }).screen).toBe('detail');
  });

  it('d shows a pipeline’s last error in full, or says there is none', () => {
    let s = keys(loaded(), 'd');
    expect(s.details?.body).toContain(
      'SOURCE_CONNECTION: connect ECONNREFUSED 10.0.0.5:5432\n    at TCPConnectWrap',
    );
    s = keys(s, 'q');
    expect(s.outbox.at(-1)?.command).toEqual({ kind: 'quit' });
    s = keys(viewReducer(loaded(), { type: 'move', delta: 1 }), 'd');
    expect(s.details).toBeNull();
    expect(s.notice?.text).toBe('invoices has no error to show');
  });
});

describe('the log pane: wrap, sideways scroll, every pipeline', () => {
  it('w wraps, → and ← shift a cut line within its length, 0 returns to the left edge', () => {
    let s = keys(loaded(), 'l');
    s = viewReducer(s, {
      type: 'logLines',
      pipeline: 'customers',
      lines: [logLine('x'.repeat(30), { pipeline: 'customers' })],
      replace: true,
    });
    s = keys(s, { rightArrow: true }, { rightArrow: true });
    expect(s.logs?.shift).toBe(16);
    s = keys(s, { rightArrow: true }, { rightArrow: true }, { rightArrow: true });
    expect(s.logs?.shift).toBe(29);
    s = keys(s, { leftArrow: true });
    expect(s.logs?.shift).toBe(21);
    s = keys(s, '0');
    expect(s.logs?.shift).toBe(0);
    s = keys(s, { rightArrow: true }, 'w');
    expect(s.logs).toMatchObject({ wrap: true, shift: 0 });
    expect(keys(s, { rightArrow: true }).logs?.shift).toBe(0);
    expect(keys(s, 'w').logs?.wrap).toBe(false);
  });

  it('every pipeline’s log takes every line; a pipeline’s log only its own', () => {
    let s = keys(loaded(), ':logs', { return: true });
    s = viewReducer(s, {
      type: 'logLines',
      pipeline: null,
      lines: [logLine('a'), logLine('b')],
      replace: false,
    });
    expect(s.logs?.lines).toHaveLength(2);
    s = viewReducer(s, { type: 'logLines', pipeline: 'invoices', lines: [logLine('c')], replace: false });
    expect(s.logs?.lines).toHaveLength(2);
    // No pipeline to act on: actions say so rather than guess.
    expect(keys(s, 's').notice?.text).toBe('no pipeline selected');
  });
});

describe('the read-only role', () => {
  it('x is sent without asking on a read-only connection: the daemon refuses it and says why', () => {
    const s = keys(
      viewReducer(viewReducer(loaded(), { type: 'role', role: 'read-only' }), {
        type: 'moveTo',
        position: 'last',
      }),
      'x',
    );
    expect(s.confirm).toBeNull();
    expect(s.outbox.map((c) => c.command)).toEqual([
      { kind: 'stop', pipeline: 'orders_from_the_eu_shop_shards' },
    ]);
    const operator = keys(viewReducer(loaded(), { type: 'moveTo', position: 'last' }), 'x');
    expect(operator.confirm?.command).toEqual({ kind: 'stop', pipeline: 'orders_from_the_eu_shop_shards' });
  });
});
