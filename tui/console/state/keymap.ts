/**
 * Keys → intents. A pure function of the view state and the key, returning reducer actions
 * and at most one daemon command, so every binding is testable without a terminal.
 */
import type { Key } from 'ink';
import { commandWords, cursorOf, type Command } from './command.js';
import { LOG_SHIFT_STEP } from './log-view.js';
import type { BackfillForm, ListName } from './view-types.js';
import { targetPipeline, type ViewAction, type ViewState } from './view-state.js';

/** Reducer actions for one key; commands travel as `enqueue` actions. */
export type KeyOutcome = readonly ViewAction[];

export interface KeyOptions {
  readonly readonly: boolean;
  /** Rows a page key moves: the visible table or log height. */
  readonly pageSize: number;
}

/** Keys that accept only partial `Key` objects keep tests short; missing flags are false. */
export type KeyPress = Partial<Key>;

const NOTHING: KeyOutcome = [];
const ACTIVE_STATES = new Set(['running', 'retrying', 'waiting']);

function act(...actions: ViewAction[]): KeyOutcome {
  return actions;
}

function send(command: Command): KeyOutcome {
  return [{ type: 'enqueue', command }];
}

function notice(text: string, tone: 'info' | 'error' = 'info'): KeyOutcome {
  return act({ type: 'notice', notice: { text, tone } });
}

/** Printable text typed into a prompt; control sequences are dropped. */
function typed(input: string, key: KeyPress): string {
  if (key.ctrl === true || key.meta === true) return '';
  // eslint-disable-next-line no-control-regex -- stripping terminal control characters is the point
  return input.replace(/[\u0000-\u001f\u007f]/g, '');
}

function isBackspace(key: KeyPress): boolean {
  // Many terminals send DEL (0x7f) for Backspace, which Ink reports as `delete`.
  return key.backspace === true || key.delete === true;
}

function promptKey(
  input: string,
  key: KeyPress,
  on: { commit: ViewAction; cancel: ViewAction; backspace: ViewAction; input: (text: string) => ViewAction },
): KeyOutcome {
  if (key.return === true) return act(on.commit);
  if (key.escape === true) return act(on.cancel);
  if (isBackspace(key)) return act(on.backspace);
  const text = typed(input, key);
  return text === '' ? NOTHING : act(on.input(text));
}

/** Keys that act on a pipeline; `F` and `B` (state operations) only in the table and its details. */
const ACTION_INPUTS = ['s', 'x', 'p', 'r', 'F', 'B'];
const STATE_OPERATIONS = ['F', 'B'];

function actionKey(state: ViewState, input: string, options: KeyOptions): KeyOutcome | null {
  if (!ACTION_INPUTS.includes(input)) return null;
  // The alerts, the YAML file and the hosts are for reading; their key bars offer no actions.
  if (state.screen === 'alerts' || state.screen === 'yaml' || state.screen === 'hosts') return null;
  if (STATE_OPERATIONS.includes(input) && state.screen !== 'table' && state.screen !== 'detail') return null;
  if (options.readonly) return notice('read-only console (--readonly): actions are disabled');
  const target = targetPipeline(state);
  if (target === null) return notice('no pipeline selected');
  const name = target.name;
  // A read-only connection is refused by the daemon, which says why: asking first would be a lie.
  const ask = (question: string, command: Command): KeyOutcome =>
    state.role === 'read-only' ? send(command) : act({ type: 'confirm', confirm: { question, command } });
  switch (input) {
    case 's':
      return send({ kind: 'start', pipeline: name, retry: false });
    case 'x':
      if (!ACTIVE_STATES.has(target.state)) return notice(`${name} has no active run to stop`);
      return ask(`Stop the running run of ${name}?`, { kind: 'stop', pipeline: name });
    case 'p':
      return send({ kind: target.paused ? 'resume' : 'pause', pipeline: name });
    case 'F':
      return ask(
        `Full refresh of ${name}: replace ${target.destination ?? 'its destination'} with a full reload?`,
        { kind: 'fullRefresh', pipeline: name },
      );
    case 'B': {
      const status = state.detail?.pipeline === name ? state.detail.status : null;
      return act({ type: 'backfillOpen', pipeline: name, cursor: cursorOf(status) });
    }
    default: {
      const failed = target.state === 'failed' || target.last_run?.status === 'failed';
      if (!failed) return notice(`r retries a failed run; ${name} has not failed`);
      return send({ kind: 'start', pipeline: name, retry: true });
    }
  }
}

/** `B`'s form: tab (or ↑↓) switches between from and to, enter starts, esc closes. */
function backfillKey(form: BackfillForm, input: string, key: KeyPress): KeyOutcome {
  if (form.sending) return key.escape === true ? act({ type: 'backfillClose' }) : NOTHING;
  if (key.escape === true) return act({ type: 'backfillClose' });
  if (key.tab === true || key.upArrow === true || key.downArrow === true)
    return act({ type: 'backfillEdit', edit: { kind: 'switch' } });
  if (isBackspace(key)) return act({ type: 'backfillEdit', edit: { kind: 'backspace' } });
  if (key.return === true) {
    if (form.from === '' || form.to === '') {
      // Enter on the first field goes on to the second, as in any form.
      return form.field === 'from' && form.from !== ''
        ? act({ type: 'backfillEdit', edit: { kind: 'switch' } })
        : notice('a backfill needs both from and to');
    }
    return act(
      { type: 'backfillSent' },
      {
        type: 'enqueue',
        command: { kind: 'backfill', pipeline: form.pipeline, from: form.from, to: form.to },
      },
    );
  }
  const text = typed(input, key);
  return text === '' ? NOTHING : act({ type: 'backfillEdit', edit: { kind: 'input', text } });
}

function tableKey(input: string, key: KeyPress, options: KeyOptions): KeyOutcome {
  if (key.upArrow === true || input === 'k') return act({ type: 'move', delta: -1 });
  if (key.downArrow === true || input === 'j') return act({ type: 'move', delta: 1 });
  if (key.pageUp === true) return act({ type: 'move', delta: -options.pageSize });
  if (key.pageDown === true) return act({ type: 'move', delta: options.pageSize });
  if (key.home === true || input === 'g') return act({ type: 'moveTo', position: 'first' });
  if (key.end === true || input === 'G') return act({ type: 'moveTo', position: 'last' });
  if (key.return === true) return act({ type: 'openDetail' });
  if (key.escape === true) return act({ type: 'back' });
  switch (input) {
    case 'l':
      return act({ type: 'openLogs' });
    case 'y':
      return act({ type: 'openYaml' });
    case 'd':
      return act({ type: 'showDetails' });
    case '/':
      return act({ type: 'filterStart' });
    case 'o':
      return act({ type: 'sortNext' });
    case 'O':
      return act({ type: 'sortReverse' });
    default:
      return NOTHING;
  }
}

function logsKey(state: ViewState, input: string, key: KeyPress, options: KeyOptions): KeyOutcome {
  const logs = state.logs;
  if (logs === null) return NOTHING;
  if (key.escape === true) return act({ type: 'back' });
  if (key.upArrow === true || input === 'k') return act({ type: 'logsScroll', delta: 1 });
  if (key.downArrow === true || input === 'j') return act({ type: 'logsScroll', delta: -1 });
  if (key.pageUp === true) return act({ type: 'logsScroll', delta: options.pageSize });
  if (key.pageDown === true) return act({ type: 'logsScroll', delta: -options.pageSize });
  if (key.home === true || input === 'g') return act({ type: 'logsScroll', delta: logs.lines.length });
  if (key.end === true || input === 'G') return act({ type: 'logsFollow' });
  if (key.leftArrow === true) return act({ type: 'logsShift', delta: -LOG_SHIFT_STEP });
  if (key.rightArrow === true) return act({ type: 'logsShift', delta: LOG_SHIFT_STEP });
  switch (input) {
    case 'w':
      return act({ type: 'logsWrap' });
    case '0':
      return act({ type: 'logsShift', delta: -Number.MAX_SAFE_INTEGER });
    case 'y':
      return logs.pipeline === null ? NOTHING : act({ type: 'openYaml' });
    case ' ':
      return act({ type: 'logsTogglePause' });
    case '/':
      return act({ type: 'searchStart' });
    case 'n':
      return act({ type: 'searchJump', direction: 'older' });
    case 'N':
      return act({ type: 'searchJump', direction: 'newer' });
    default:
      return NOTHING;
  }
}

/** `:runs` and `:alerts`: move, filter, details of the selection, its pipeline's logs and file. */
function listKey(list: ListName, input: string, key: KeyPress, options: KeyOptions): KeyOutcome {
  const edit = (e: Extract<ViewAction, { type: 'listEdit' }>['edit']): KeyOutcome =>
    act({ type: 'listEdit', list, edit: e });
  if (key.upArrow === true || input === 'k') return edit({ kind: 'move', delta: -1 });
  if (key.downArrow === true || input === 'j') return edit({ kind: 'move', delta: 1 });
  if (key.pageUp === true) return edit({ kind: 'move', delta: -options.pageSize });
  if (key.pageDown === true) return edit({ kind: 'move', delta: options.pageSize });
  if (key.home === true || input === 'g') return edit({ kind: 'moveTo', position: 'first' });
  if (key.end === true || input === 'G') return edit({ kind: 'moveTo', position: 'last' });
  if (key.return === true || input === 'd') return act({ type: 'showDetails' });
  if (key.escape === true) return act({ type: 'back' });
  switch (input) {
    case '/':
      return edit({ kind: 'filterStart' });
    case 'l':
      return act({ type: 'openLogs' });
    case 'y':
      return act({ type: 'openYaml' });
    default:
      return NOTHING;
  }
}

function yamlKey(input: string, key: KeyPress, options: KeyOptions): KeyOutcome {
  if (key.escape === true || isBackspace(key)) return act({ type: 'back' });
  if (key.upArrow === true || input === 'k') return act({ type: 'yamlScroll', delta: -1 });
  if (key.downArrow === true || input === 'j') return act({ type: 'yamlScroll', delta: 1 });
  if (key.pageUp === true) return act({ type: 'yamlScroll', delta: -options.pageSize });
  if (key.pageDown === true) return act({ type: 'yamlScroll', delta: options.pageSize });
  if (key.home === true || input === 'g') return act({ type: 'yamlScroll', delta: -Number.MAX_SAFE_INTEGER });
  if (key.end === true || input === 'G') return act({ type: 'yamlScroll', delta: Number.MAX_SAFE_INTEGER });
  return input === 'l' ? act({ type: 'openLogs' }) : NOTHING;
}

/** The overlay of `d`: arrows scroll a long error, any other key closes it. */
function detailsKey(input: string, key: KeyPress, options: KeyOptions): KeyOutcome {
  if (key.upArrow === true || input === 'k') return act({ type: 'detailsScroll', delta: -1 });
  if (key.downArrow === true || input === 'j') return act({ type: 'detailsScroll', delta: 1 });
  if (key.pageUp === true) return act({ type: 'detailsScroll', delta: -options.pageSize });
  if (key.pageDown === true) return act({ type: 'detailsScroll', delta: options.pageSize });
  return act({ type: 'closeDetails' });
}

function listFilterPrompt(state: ViewState): ListName | null {
  if (state.screen === 'runs' && state.runs.filterEditing) return 'runs';
  if (state.screen === 'alerts' && state.alerts.filterEditing) return 'alerts';
  return null;
}

export function resolveKey(state: ViewState, input: string, key: KeyPress, options: KeyOptions): KeyOutcome {
  if (key.ctrl === true && input === 'c') return send({ kind: 'quit' });

  if (state.confirm !== null) {
    if (input === 'y' || input === 'Y')
      return act({ type: 'confirmCancel' }, { type: 'enqueue', command: state.confirm.command });
    return act(
      { type: 'confirmCancel' },
      { type: 'notice', notice: { text: `${commandWords(state.confirm.command)} cancelled`, tone: 'info' } },
    );
  }

  if (state.backfill !== null) return backfillKey(state.backfill, input, key);

  if (state.palette !== null) {
    if (key.tab === true) return act({ type: 'paletteComplete' });
    return promptKey(input, key, {
      commit: { type: 'paletteCommit' },
      cancel: { type: 'paletteCancel' },
      backspace: { type: 'paletteBackspace' },
      input: (text) => ({ type: 'paletteInput', text }),
    });
  }

  if (state.filterEditing) {
    if (key.upArrow === true) return act({ type: 'move', delta: -1 });
    if (key.downArrow === true) return act({ type: 'move', delta: 1 });
    return promptKey(input, key, {
      commit: { type: 'filterCommit' },
      cancel: { type: 'filterCancel' },
      backspace: { type: 'filterBackspace' },
      input: (text) => ({ type: 'filterInput', text }),
    });
  }

  const list = listFilterPrompt(state);
  if (list !== null) {
    const edit = (e: Extract<ViewAction, { type: 'listEdit' }>['edit']): ViewAction => ({
      type: 'listEdit',
      list,
      edit: e,
    });
    if (key.upArrow === true) return act(edit({ kind: 'move', delta: -1 }));
    if (key.downArrow === true) return act(edit({ kind: 'move', delta: 1 }));
    return promptKey(input, key, {
      commit: edit({ kind: 'filterCommit' }),
      cancel: edit({ kind: 'filterCancel' }),
      backspace: edit({ kind: 'filterBackspace' }),
      input: (text) => edit({ kind: 'filterInput', text }),
    });
  }

  if (state.logs?.searchEditing === true) {
    return promptKey(input, key, {
      commit: { type: 'searchCommit' },
      cancel: { type: 'searchCancel' },
      backspace: { type: 'searchBackspace' },
      input: (text) => ({ type: 'searchInput', text }),
    });
  }

  if (input === 'q') return send({ kind: 'quit' });
  if (state.details !== null) return detailsKey(input, key, options);
  if (state.help) return act({ type: 'toggleHelp' });
  if (input === '?') return act({ type: 'toggleHelp' });
  if (input === ':') return act({ type: 'paletteStart' });

  const action = actionKey(state, input, options);
  if (action !== null) return action;

  switch (state.screen) {
    case 'table':
      return tableKey(input, key, options);
    case 'detail':
      if (key.escape === true || isBackspace(key)) return act({ type: 'back' });
      switch (input) {
        case 'l':
          return act({ type: 'openLogs' });
        case 'y':
          return act({ type: 'openYaml' });
        case 'd':
          return act({ type: 'showDetails' });
        default:
          return NOTHING;
      }
    case 'logs':
      return logsKey(state, input, key, options);
    case 'runs':
    case 'alerts':
      return listKey(state.screen, input, key, options);
    case 'yaml':
      return yamlKey(input, key, options);
    case 'hosts':
      return key.escape === true || isBackspace(key) ? act({ type: 'back' }) : NOTHING;
  }
}
