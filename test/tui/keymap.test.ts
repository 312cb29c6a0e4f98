import { describe, expect, it } from 'vitest';
import { ActionBatcher, type Timers } from '../../tui/console/state/action-batcher.js';
import { consoleReducer } from '../../tui/console/state/console-reducer.js';
import { resolveKey, type KeyOptions } from '../../tui/console/state/keymap.js';
import {
  createViewState,
  viewReducer,
  type ViewAction,
  type ViewState,
} from '../../tui/console/state/view-state.js';
import { iso, logLine, part, pipeline, run } from './fixtures.js';

const OPTIONS: KeyOptions = { readonly: false, pageSize: 10 };

function state(...pipelines: ReturnType<typeof pipeline>[]): ViewState {
  return viewReducer(createViewState(), { type: 'pipelines', pipelines });
}

function keys(
  start: ViewState,
  ...presses: (string | { input?: string; key: Record<string, boolean> })[]
): ViewState {
  return presses.reduce(
    (s, press) =>
      typeof press === 'string'
        ? consoleReducer(s, { type: 'key', input: press, key: {}, options: OPTIONS })
        : consoleReducer(s, { type: 'key', input: press.input ?? '', key: press.key, options: OPTIONS }),
    start,
  );
}

const commands = (s: ViewState) => s.outbox.map((q) => q.command);

describe('keys', () => {
  const idle = pipeline({ name: 'orders' });
  const running = pipeline({ name: 'loads', state: 'running' });
  const failed = pipeline({
    name: 'crm',
    state: 'failed',
    last_run: run({ status: 'failed', pipeline: 'crm' }),
  });
  const paused = pipeline({ name: 'zeta', paused: true });

  it('s starts the selected pipeline', () => {
    expect(commands(keys(state(idle), 's'))).toEqual([{ kind: 'start', pipeline: 'orders', retry: false }]);
  });

  it('x asks before stopping, and only y stops', () => {
    let s = keys(state(running), 'x');
    expect(s.confirm).toEqual({
      question: 'Stop the running run of loads?',
      command: { kind: 'stop', pipeline: 'loads' },
    });
    expect(commands(s)).toEqual([]);
    s = keys(s, 'y');
    expect(s.confirm).toBeNull();
    expect(commands(s)).toEqual([{ kind: 'stop', pipeline: 'loads' }]);
    const declined = keys(state(running), 'x', 'n');
    expect(declined.confirm).toBeNull();
    expect(commands(declined)).toEqual([]);
    expect(declined.notice?.text).toBe('stop cancelled');
    // Even q answers the question instead of quitting.
    expect(commands(keys(state(running), 'x', 'q'))).toEqual([]);
  });

  it('x on a pipeline without an active run explains instead of asking', () => {
    const s = keys(state(idle), 'x');
    expect(s.confirm).toBeNull();
    expect(s.notice?.text).toContain('no active run');
  });

  it('p pauses or resumes depending on the pipeline', () => {
    expect(commands(keys(state(idle), 'p'))).toEqual([{ kind: 'pause', pipeline: 'orders' }]);
    expect(commands(keys(state(paused), 'p'))).toEqual([{ kind: 'resume', pipeline: 'zeta' }]);
  });

  it('r retries only a failed pipeline', () => {
    expect(commands(keys(state(failed), 'r'))).toEqual([{ kind: 'start', pipeline: 'crm', retry: true }]);
    const s = keys(state(idle), 'r');
    expect(commands(s)).toEqual([]);
    expect(s.notice?.text).toContain('has not failed');
  });

  it('--readonly refuses every action but still navigates', () => {
    const readonly = { readonly: true, pageSize: 10 };
    let s = state(running, failed);
    for (const input of ['s', 'x', 'p', 'r']) {
      s = consoleReducer(s, { type: 'key', input, key: {}, options: readonly });
      expect(s.notice?.text).toContain('read-only');
    }
    expect(commands(s)).toEqual([]);
    expect(s.confirm).toBeNull();
    s = consoleReducer(s, { type: 'key', input: '', key: { return: true }, options: readonly });
    expect(s.screen).toBe('detail');
  });

  it('actions on an empty table say so', () => {
    expect(keys(createViewState(), 's').notice?.text).toBe('no pipeline selected');
  });

  it('q and ctrl-c quit; q inside the filter prompt is text', () => {
    expect(commands(keys(state(idle), 'q'))).toEqual([{ kind: 'quit' }]);
    expect(commands(keys(state(idle), { input: 'c', key: { ctrl: true } }))).toEqual([{ kind: 'quit' }]);
    const s = keys(state(idle), '/', 'q');
    expect(s.filter).toBe('q');
    expect(commands(s)).toEqual([]);
  });

  it('keys typed faster than a render land in the filter (one multi-character read)', () => {
    const s = keys(state(idle, running), '/ord\r');
    expect(s.filter).toBe('ord');
    expect(s.filterEditing).toBe(false);
    expect(s.sort.key).toBe('name');
  });

  it('filter prompt: backspace (DEL) and esc', () => {
    let s = keys(state(idle), '/', 'o', 'x', { key: { delete: true } });
    expect(s.filter).toBe('o');
    s = keys(s, { key: { escape: true } });
    expect(s).toMatchObject({ filter: '', filterEditing: false });
    // Control characters never end up in the filter.
    expect(keys(state(idle), '/', '\u0007').filter).toBe('');
  });

  it('arrows, j/k, page keys and g/G move the selection', () => {
    const many = Array.from({ length: 30 }, (_, i) => pipeline({ name: `p${String(i).padStart(2, '0')}` }));
    let s = keys(state(...many), 'j', 'j', { key: { downArrow: true } });
    expect(s.selected).toBe('p03');
    s = keys(s, 'k', { key: { upArrow: true } });
    expect(s.selected).toBe('p01');
    s = keys(s, { key: { pageDown: true } });
    expect(s.selected).toBe('p11');
    s = keys(s, 'G');
    expect(s.selected).toBe('p29');
    s = keys(s, 'g');
    expect(s.selected).toBe('p00');
  });

  it('? toggles help and any key closes it without acting', () => {
    let s = keys(state(idle), '?');
    expect(s.help).toBe(true);
    s = keys(s, 's');
    expect(s.help).toBe(false);
    expect(commands(s)).toEqual([]);
  });

  it('o and O sort', () => {
    const s = keys(state(idle), 'o', 'O');
    expect(s.sort).toEqual({ key: 'state', descending: true });
  });

  it('in the log pane: space pauses, / searches, n jumps, esc goes back', () => {
    let s = keys(state(idle), 'l');
    expect(s.screen).toBe('logs');
    s = viewReducer(s, {
      type: 'logLines',
      pipeline: 'orders',
      lines: [logLine('error a'), logLine('b'), logLine('c')],
      replace: true,
    });
    s = keys(s, ' ');
    expect(s.logs?.paused).toBe(true);
    s = keys(s, ' ', '/', 'e', 'r', 'r', { key: { return: true } }, 'n');
    expect(s.logs).toMatchObject({ search: 'err', paused: true, scroll: 2 });
    s = keys(s, 'G');
    expect(s.logs).toMatchObject({ paused: false, scroll: 0 });
    s = keys(s, { key: { escape: true } });
    expect(s.screen).toBe('table');
  });

  it('enter opens details, l opens logs from there, esc and backspace go back', () => {
    let s = keys(state(idle), { key: { return: true } });
    expect(s.screen).toBe('detail');
    s = keys(s, 'l');
    expect(s.screen).toBe('logs');
    s = keys(s, { key: { escape: true } });
    expect(s.screen).toBe('detail');
    s = keys(s, { key: { backspace: true } });
    expect(s.screen).toBe('table');
  });

  it('resolveKey is pure: the state passed in is unchanged', () => {
    const s = state(idle);
    const before = JSON.stringify(s);
    resolveKey(s, 's', {}, OPTIONS);
    expect(JSON.stringify(s)).toBe(before);
  });
});

describe('ActionBatcher', () => {
  function manualTimers(): Timers & { fire: () => void; pending: () => number } {
    let callbacks: (() => void)[] = [];
    return {
      setTimeout: (callback) => {
        callbacks.push(callback);
        return callbacks.length;
      },
      clearTimeout: () => {
        callbacks = [];
      },
      fire: () => {
        const now = callbacks;
        callbacks = [];
        for (const callback of now) callback();
      },
      pending: () => callbacks.length,
    };
  }

  const progress = (pipelineName: string, rows: number): ViewAction => ({
    type: 'progress',
    event: {
      run_id: 'r',
      attempt_id: 'r-1',
      pipeline: pipelineName,
      rows,
      bytes: 0,
      rows_per_s: 1,
      phase: 'extracting',
      parts: [part()],
    },
  });

  it('delivers one batch per tick with only the newest progress per pipeline', () => {
    const timers = manualTimers();
    const batches: (readonly ViewAction[])[] = [];
    const batcher = new ActionBatcher((actions) => batches.push(actions), 150, timers);
    for (let i = 1; i <= 1000; i++) batcher.push(progress(i % 2 === 0 ? 'a' : 'b', i));
    expect(timers.pending()).toBe(1);
    expect(batches).toHaveLength(0);
    timers.fire();
    expect(batches).toHaveLength(1);
    const rows = batches[0]?.map((a) =>
      a.type === 'progress' ? `${a.event.pipeline}:${a.event.rows}` : a.type,
    );
    expect(rows).toEqual(['b:999', 'a:1000']);
  });

  it('keeps the latest list first, events in order, merges log lines, and drops progress of ended runs', () => {
    const timers = manualTimers();
    const batches: (readonly ViewAction[])[] = [];
    const batcher = new ActionBatcher((actions) => batches.push(actions), 150, timers);
    batcher.push(progress('a', 5));
    batcher.push({ type: 'pipelines', pipelines: [] });
    batcher.push({
      type: 'runState',
      event: {
        run_id: 'r',
        attempt_id: 'r-1',
        pipeline: 'a',
        status: 'succeeded',
        attempt: 1,
        at: iso(0),
        rows_loaded: 5,
        error: null,
      },
    });
    batcher.push({ type: 'logLines', pipeline: 'a', lines: [logLine('1')], replace: false });
    batcher.push({ type: 'logLines', pipeline: 'a', lines: [logLine('2')], replace: false });
    batcher.push({ type: 'pipelines', pipelines: [pipeline()] });
    batcher.flushNow();
    const batch = batches[0] ?? [];
    expect(batch.map((a) => a.type)).toEqual(['pipelines', 'runState', 'logLines']);
    expect(batch[0]?.type === 'pipelines' && batch[0].pipelines).toHaveLength(1);
    expect(batch[2]?.type === 'logLines' && batch[2].lines.map((l) => l.message)).toEqual(['1', '2']);
  });

  it('stops delivering once disposed', () => {
    const timers = manualTimers();
    const batches: (readonly ViewAction[])[] = [];
    const batcher = new ActionBatcher((actions) => batches.push(actions), 150, timers);
    batcher.push(progress('a', 1));
    batcher.dispose();
    batcher.push(progress('a', 2));
    timers.fire();
    expect(batches).toHaveLength(0);
  });
});
