/**
 * Moving between screens: details, the log pane, the YAML view, the palette's views and the
 * details overlay, and `esc` back the way the operator came.
 */
import type { ListName, ViewState } from './view-types.js';
import { alertDetails, pipelineDetails, runDetails } from './details.js';
import { createLogView } from './log-view.js';
import { parsePalette } from './palette.js';
import { editRecordList, RUN_LIST, ALERT_LIST, type ListEdit } from './record-list.js';
import { findPipeline, selectedAlert, selectedRun, targetPipeline } from './selectors.js';

/** An edit of the `:runs` or `:alerts` list. */
export function editList(state: ViewState, list: ListName, edit: ListEdit): ViewState {
  return list === 'runs'
    ? { ...state, runs: editRecordList(state.runs, RUN_LIST, edit) }
    : { ...state, alerts: editRecordList(state.alerts, ALERT_LIST, edit) };
}

function notice(state: ViewState, text: string, tone: 'info' | 'error' = 'error'): ViewState {
  return { ...state, notice: { text, tone } };
}

/** The log pane of `pipeline`; the selected pipeline's when undefined; every pipeline's for null. */
export function openLogs(state: ViewState, pipeline: string | null | undefined): ViewState {
  let name: string | null;
  if (pipeline === undefined) {
    const target = targetPipeline(state);
    if (target === null) return state;
    name = target.name;
  } else {
    name = pipeline;
  }
  const returnTo = state.screen === 'logs' ? state.logsReturnTo : state.screen;
  return { ...state, screen: 'logs', logsReturnTo: returnTo, logs: createLogView(name), help: false };
}

export function openYaml(state: ViewState): ViewState {
  const target = targetPipeline(state);
  if (target === null) return notice(state, 'no pipeline selected', 'info');
  const returnTo = state.screen === 'yaml' ? state.yamlReturnTo : state.screen;
  return {
    ...state,
    screen: 'yaml',
    yamlReturnTo: returnTo,
    yaml: { pipeline: target.name, file: null, error: null, scroll: 0 },
    help: false,
  };
}

/**
 * A top-level view of the palette; the list views and `:hosts` keep what they loaded until the
 * refresh lands. `:hosts` takes no filter: a fleet is a handful of hosts.
 */
export function openView(
  state: ViewState,
  view: 'table' | ListName | 'hosts',
  filter: string | undefined,
): ViewState {
  const base: ViewState = { ...state, screen: view, detail: null, logs: null, yaml: null, help: false };
  if (view === 'hosts') return base;
  if (view === 'table') {
    if (filter === undefined) return base;
    return { ...base, filter, filterError: null, filterEditing: false };
  }
  return filter === undefined ? base : editList(base, view, { kind: 'filterSet', text: filter });
}

export function back(state: ViewState): ViewState {
  switch (state.screen) {
    case 'logs':
      return { ...state, screen: state.logsReturnTo, logs: null };
    case 'yaml':
      return { ...state, screen: state.yamlReturnTo, yaml: null };
    case 'detail':
    case 'hosts':
      return { ...state, screen: 'table', detail: null };
    case 'table':
      return state.filter === '' ? state : { ...state, filter: '', filterError: null };
    case 'runs':
    case 'alerts': {
      // Like the table: the first esc clears a filter, the next one goes to the pipelines.
      const list = state.screen;
      if (state[list].filter !== '') return editList(state, list, { kind: 'filterSet', text: '' });
      return { ...state, screen: 'table' };
    }
  }
}

/** `enter` in the palette: switch to the view it names, or say why not. */
export function commitPalette(state: ViewState): ViewState {
  const text = state.palette?.text ?? '';
  const closed: ViewState = { ...state, palette: null };
  const parsed = parsePalette(text);
  if (!parsed.ok) return notice(closed, parsed.error);
  const argument = parsed.argument === '' ? undefined : parsed.argument;
  switch (parsed.command) {
    case 'pipelines':
      return openView(closed, 'table', argument);
    case 'runs':
    case 'alerts':
      return openView(closed, parsed.command, argument);
    case 'hosts':
      return argument === undefined
        ? openView(closed, 'hosts', undefined)
        : notice(closed, ':hosts takes no argument');
    case 'logs': {
      if (argument !== undefined && findPipeline(state, argument) === null)
        return notice(closed, `no pipeline named "${argument}"`);
      return openLogs(closed, argument ?? null);
    }
    case 'quit':
      return {
        ...closed,
        outbox: [...closed.outbox, { id: closed.nextCommandId, command: { kind: 'quit' } }],
        nextCommandId: closed.nextCommandId + 1,
      };
  }
}

/** `d` (or `enter` in a list): everything about the selection, the whole error included. */
export function showDetails(state: ViewState): ViewState {
  switch (state.screen) {
    case 'runs': {
      const run = selectedRun(state);
      return run === null ? notice(state, 'no run selected', 'info') : { ...state, details: runDetails(run) };
    }
    case 'alerts': {
      const alert = selectedAlert(state);
      return alert === null
        ? notice(state, 'no alert selected', 'info')
        : { ...state, details: alertDetails(alert) };
    }
    case 'table':
    case 'detail': {
      const target = targetPipeline(state);
      if (target === null) return notice(state, 'no pipeline selected', 'info');
      const status = state.detail?.pipeline === target.name ? state.detail.status : null;
      const details = pipelineDetails(target, status);
      return details === null
        ? notice(state, `${target.name} has no error to show`, 'info')
        : { ...state, details };
    }
    case 'logs':
    case 'yaml':
    case 'hosts':
      return state;
  }
}
