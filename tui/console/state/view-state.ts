/**
 * The console's pure reducer: data from the daemon and operator intents arrive as actions;
 * nothing here performs I/O, so the reducer is tested on its own. The state's shape is in
 * `view-types.ts`, screen changes in `navigation.ts`.
 */
import type { PipelineSummary, RunRecord } from '../../../shared/protocol.js';
import type { PipelineState, RunStatus } from '../../../shared/types.js';
import { compileFilter } from './filter.js';
import { applyLogAction } from './log-view.js';
import { back, commitPalette, editList, openLogs, openView, openYaml, showDetails } from './navigation.js';
import { completePalette } from './palette.js';
import { ALERT_LIST, loadPage, RUN_LIST } from './record-list.js';
import { selectedIndex, targetPipeline, visibleOf } from './selectors.js';
import { nextSortKey } from './sort.js';
import type { BackfillEdit, BackfillForm, RunStateEvent, ViewAction, ViewState } from './view-types.js';

export { createViewState } from './view-types.js';
export type {
  DetailData,
  ListName,
  Notice,
  Progress,
  Screen,
  ViewAction,
  ViewState,
  YamlView,
} from './view-types.js';
export { selectedIndex, targetPipeline, visibleOf } from './selectors.js';

/** A run in these statuses has not ended: a `retrying` run runs its next attempt under the same id. */
const ACTIVE: ReadonlySet<RunStatus> = new Set<RunStatus>(['queued', 'running', 'retrying']);

/** The pipeline state implied by a run's status, until the next list refresh confirms it. */
export function pipelineStateFor(status: RunStatus, previous: PipelineState): PipelineState {
  switch (status) {
    case 'queued':
      return 'waiting';
    case 'running':
      return 'running';
    case 'retrying':
      return 'retrying';
    case 'failed':
      return 'failed';
    case 'succeeded':
    case 'cancelled':
    case 'interrupted':
      return previous === 'invalid' ? 'invalid' : 'idle';
  }
}

function applyRunState(state: ViewState, event: RunStateEvent): ViewState {
  const pipelines = state.pipelines.map((p): PipelineSummary => {
    if (p.name !== event.pipeline) return p;
    const lastRun: RunRecord | null =
      p.last_run !== null && p.last_run.id === event.run_id
        ? {
            ...p.last_run,
            status: event.status,
            attempt: event.attempt,
            rows_loaded: event.rows_loaded,
            error: event.error,
            finished_at: ACTIVE.has(event.status) ? null : event.at,
          }
        : p.last_run;
    return { ...p, state: pipelineStateFor(event.status, p.state), last_run: lastRun };
  });
  let progress = state.progress;
  if (!ACTIVE.has(event.status) && progress[event.pipeline] !== undefined) {
    const { [event.pipeline]: _ended, ...rest } = progress;
    progress = rest;
  }
  return { ...state, pipelines, progress };
}

function applyPipelines(state: ViewState, pipelines: readonly PipelineSummary[]): ViewState {
  // Progress for pipelines that no longer run (or no longer exist) is stale.
  const running = new Set(
    pipelines.filter((p) => p.state === 'running' || p.state === 'waiting').map((p) => p.name),
  );
  const progress = Object.fromEntries(Object.entries(state.progress).filter(([name]) => running.has(name)));
  const next = { ...state, pipelines, loaded: true, progress };
  if (next.selected === null || !pipelines.some((p) => p.name === next.selected)) {
    return { ...next, selected: visibleOf(next)[0]?.name ?? null };
  }
  return next;
}

function withFilter(state: ViewState, text: string): ViewState {
  const compiled = compileFilter(text);
  return { ...state, filter: text, filterError: compiled.ok ? null : compiled.error };
}

function move(state: ViewState, to: (index: number, count: number) => number): ViewState {
  const visible = visibleOf(state);
  if (visible.length === 0) return state;
  const index = Math.min(Math.max(to(selectedIndex(state, visible), visible.length), 0), visible.length - 1);
  return { ...state, selected: visible[index]?.name ?? state.selected };
}

function scrollBy(scroll: number, delta: number, lines: number): number {
  return Math.min(Math.max(scroll + delta, 0), Math.max(lines - 1, 0));
}

function editBackfill(form: BackfillForm, edit: BackfillEdit): BackfillForm {
  switch (edit.kind) {
    case 'switch':
      return { ...form, field: form.field === 'from' ? 'to' : 'from' };
    case 'input':
      return { ...form, [form.field]: form[form.field] + edit.text, error: null };
    case 'backspace':
      return { ...form, [form.field]: form[form.field].slice(0, -1), error: null };
  }
}

export function viewReducer(state: ViewState, action: ViewAction): ViewState {
  switch (action.type) {
    case 'batch':
      return action.actions.reduce(viewReducer, state);
    case 'connection':
      return { ...state, connection: action.state, connectionDetail: action.detail };
    case 'role':
      return { ...state, role: action.role };
    case 'info':
      return {
        ...state,
        info: action.info,
        infoReceivedAt: action.at,
        resources: action.info.resources ?? state.resources,
      };
    case 'resources':
      return { ...state, resources: action.resources };
    case 'pipelines':
      return applyPipelines(state, action.pipelines);
    case 'runState':
      return applyRunState(state, action.event);
    case 'progress':
      if (!state.pipelines.some((p) => p.name === action.event.pipeline)) return state;
      return { ...state, progress: { ...state.progress, [action.event.pipeline]: action.event } };
    case 'detailLoaded':
      if (state.detail?.pipeline !== action.pipeline) return state;
      return {
        ...state,
        detail: {
          pipeline: action.pipeline,
          status: action.status,
          history: action.history,
          why: action.why,
          error: null,
          // Fetched on their own (use-run-tables.ts): kept until their next answer.
          tables: state.detail.tables ?? null,
        },
      };
    case 'detailTables':
      if (state.detail?.pipeline !== action.pipeline) return state;
      return { ...state, detail: { ...state.detail, tables: action.tables } };
    case 'detailFailed':
      if (state.detail?.pipeline !== action.pipeline) return state;
      return { ...state, detail: { ...state.detail, error: action.error } };
    case 'runsLoaded':
      return { ...state, runs: loadPage(state.runs, RUN_LIST, action.page) };
    case 'alertsLoaded':
      return { ...state, alerts: loadPage(state.alerts, ALERT_LIST, action.page) };
    case 'listFailed':
      // The next page is asked for again by the next move.
      return action.list === 'runs'
        ? { ...state, runs: { ...state.runs, error: action.error, loadingAfter: null } }
        : { ...state, alerts: { ...state.alerts, error: action.error, loadingAfter: null } };
    case 'listEdit':
      return editList(state, action.list, action.edit);
    case 'hostsLoaded':
      return { ...state, hosts: { result: action.result, error: null } };
    case 'hostsFailed':
      return { ...state, hosts: { ...state.hosts, error: action.error } };
    case 'yamlLoaded':
      if (state.yaml?.pipeline !== action.pipeline) return state;
      return { ...state, yaml: { ...state.yaml, file: action.file, error: null } };
    case 'yamlFailed':
      if (state.yaml?.pipeline !== action.pipeline) return state;
      return { ...state, yaml: { ...state.yaml, error: action.error } };
    case 'yamlScroll': {
      if (state.yaml === null) return state;
      const lines = state.yaml.file?.text.split('\n').length ?? 0;
      return { ...state, yaml: { ...state.yaml, scroll: scrollBy(state.yaml.scroll, action.delta, lines) } };
    }
    case 'notice':
      return { ...state, notice: action.notice };
    case 'move':
      return move(state, (index) => index + action.delta);
    case 'moveTo':
      return move(state, (_index, count) => (action.position === 'first' ? 0 : count - 1));
    case 'openDetail': {
      const target = targetPipeline(state);
      if (target === null) return state;
      return {
        ...state,
        screen: 'detail',
        selected: target.name,
        help: false,
        detail: { pipeline: target.name, status: null, history: [], why: [], error: null, tables: null },
      };
    }
    case 'openLogs':
      return openLogs(state, action.pipeline);
    case 'openYaml':
      return openYaml(state);
    case 'openView':
      return openView(state, action.view, action.filter);
    case 'back':
      return back({ ...state, help: false, confirm: null });
    case 'filterStart':
      return { ...state, filterEditing: true, filterBefore: state.filter, help: false };
    case 'filterInput':
      return withFilter(state, state.filter + action.text);
    case 'filterBackspace':
      return withFilter(state, state.filter.slice(0, -1));
    case 'filterCommit':
      return { ...state, filterEditing: false };
    case 'filterCancel':
      return { ...withFilter(state, state.filterBefore), filterEditing: false };
    case 'sortNext':
      return { ...state, sort: { key: nextSortKey(state.sort.key), descending: false } };
    case 'sortReverse':
      return { ...state, sort: { ...state.sort, descending: !state.sort.descending } };
    case 'toggleHelp':
      return { ...state, help: !state.help };
    case 'paletteStart':
      return { ...state, palette: { text: '' }, help: false };
    case 'paletteInput':
      return state.palette === null
        ? state
        : { ...state, palette: { text: state.palette.text + action.text } };
    case 'paletteBackspace':
      // Backspace on an empty prompt closes it, as in k9s and vi.
      if (state.palette === null) return state;
      return state.palette.text === ''
        ? { ...state, palette: null }
        : { ...state, palette: { text: state.palette.text.slice(0, -1) } };
    case 'paletteComplete':
      return state.palette === null
        ? state
        : { ...state, palette: { text: completePalette(state.palette.text) } };
    case 'paletteCancel':
      return { ...state, palette: null };
    case 'paletteCommit':
      return commitPalette(state);
    case 'showDetails':
      return showDetails(state);
    case 'detailsScroll':
      if (state.details === null) return state;
      return {
        ...state,
        details: {
          ...state.details,
          scroll: scrollBy(state.details.scroll, action.delta, state.details.body.split('\n').length),
        },
      };
    case 'closeDetails':
      return { ...state, details: null };
    case 'confirm':
      return { ...state, confirm: action.confirm };
    case 'confirmCancel':
      return { ...state, confirm: null };
    case 'backfillOpen':
      return {
        ...state,
        help: false,
        backfill: {
          pipeline: action.pipeline,
          cursor: action.cursor,
          from: '',
          to: '',
          field: 'from',
          error: null,
          sending: false,
        },
      };
    case 'backfillCursor':
      if (state.backfill?.pipeline !== action.pipeline) return state;
      return { ...state, backfill: { ...state.backfill, cursor: action.cursor } };
    case 'backfillEdit':
      return state.backfill === null
        ? state
        : { ...state, backfill: editBackfill(state.backfill, action.edit) };
    case 'backfillSent':
      return state.backfill === null ? state : { ...state, backfill: { ...state.backfill, sending: true } };
    case 'backfillFailed':
      if (state.backfill?.pipeline !== action.pipeline) return state;
      return { ...state, backfill: { ...state.backfill, sending: false, error: action.error } };
    case 'backfillClose':
      return { ...state, backfill: null };
    case 'enqueue':
      return {
        ...state,
        outbox: [...state.outbox, { id: state.nextCommandId, command: action.command }],
        nextCommandId: state.nextCommandId + 1,
      };
    case 'commandsTaken':
      return { ...state, outbox: state.outbox.filter((queued) => queued.id > action.throughId) };
    case 'logLines':
    case 'logsFailed':
    case 'logsTogglePause':
    case 'logsScroll':
    case 'logsFollow':
    case 'logsWrap':
    case 'logsShift':
    case 'searchStart':
    case 'searchInput':
    case 'searchBackspace':
    case 'searchCommit':
    case 'searchCancel':
    case 'searchJump':
      return state.logs === null ? state : { ...state, logs: applyLogAction(state.logs, action) };
  }
}
