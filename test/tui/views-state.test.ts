/**
 * The palette, the fleet-wide lists, details on demand, the YAML view and the log pane's wrap and
 * sideways scroll, as the reducer and the key map see them (no terminal).
 */
import { describe, expect, it } from 'vitest';
import type { AlertRecord } from '../../shared/protocol.js';
import { consoleReducer } from '../../tui/console/state/console-reducer.js';
import type { KeyOptions, KeyPress } from '../../tui/console/state/keymap.js';
import { completePalette, paletteSuggestions, parsePalette } from '../../tui/console/state/palette.js';
import { RUN_LIST, visibleRecords } from '../../tui/console/state/record-list.js';
import { createViewState, viewReducer, type ViewState } from '../../tui/console/state/view-state.js';
import { logLine, pipeline, run } from './fixtures.js';

const OPTIONS: KeyOptions = { readonly: false, pageSize: 10 };

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
      error: 'unknown view ":nodes"; try :pipelines :runs :alerts :logs',
    });
    expect(completePalette('ru')).toBe('runs ');
    expect(completePalette('x')).toBe('x');
    expect(paletteSuggestions('')).toEqual(['pipelines', 'runs', 'alerts', 'logs', 'quit']);
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

describe(':runs', () => {
  it('lists every run newest first and filters as you type; esc clears the filter, then goes back', () => {
    let s = keys(loaded(), ':runs', { return: true });
    s = viewReducer(s, { type: 'runsLoaded', runs: RUNS });
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
    let s = viewReducer(keys(loaded(), ':runs', { return: true }), { type: 'runsLoaded', runs: RUNS });
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

describe(':alerts, y and d', () => {
  it('shows an alert in full on enter; offers no actions', () => {
    let s = keys(loaded(), ':alerts', { return: true });
    s = viewReducer(s, { type: 'alertsLoaded', alerts: [ALERT] });
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
    expect(operator.confirm).toEqual({ action: 'stop', pipeline: 'orders_from_the_eu_shop_shards' });
  });
});
