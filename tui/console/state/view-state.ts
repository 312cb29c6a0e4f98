/**
 * The console's whole view state and its pure reducer. Data from the daemon and operator
 * intents arrive as actions; nothing here performs I/O, so the reducer is tested on its own.
 */
import type { ConnectionState } from '../../../shared/client/client.js';
import type {
  DaemonInfo,
  EventData,
  PipelineStatus,
  PipelineSummary,
  Resources,
  RunRecord,
} from '../../../shared/protocol.js';
import type { PipelineState, RunStatus } from '../../../shared/types.js';
import { compileFilter } from './filter.js';
import { nextSortKey, visiblePipelines, type SortOrder } from './sort.js';
import type { Command, QueuedCommand } from './command.js';
import { applyLogAction, createLogView, type LogAction, type LogView } from './log-view.js';

export type Screen = 'table' | 'detail' | 'logs';
export type Progress = EventData<'run.progress'>;
export type RunStateEvent = EventData<'run.state'>;

export interface Notice {
  readonly text: string;
  readonly tone: 'info' | 'error';
}

export interface DetailData {
  readonly pipeline: string;
  readonly status: PipelineStatus | null;
  readonly history: readonly RunRecord[];
  readonly why: readonly string[];
  readonly error: string | null;
}

export interface ViewState {
  readonly connection: ConnectionState;
  readonly connectionDetail: string | null;
  readonly info: DaemonInfo | null;
  /** When `info` arrived (ms), so uptime keeps counting between refreshes. */
  readonly infoReceivedAt: number | null;
  readonly resources: Resources | null;
  readonly pipelines: readonly PipelineSummary[];
  readonly loaded: boolean;
  /** Latest progress per pipeline while a run is active. */
  readonly progress: Readonly<Record<string, Progress>>;
  readonly screen: Screen;
  readonly logsReturnTo: 'table' | 'detail';
  /** Selection by name, so it survives re-sorting and list refreshes. */
  readonly selected: string | null;
  readonly sort: SortOrder;
  readonly filter: string;
  readonly filterEditing: boolean;
  /** The filter before editing started, restored by `esc`. */
  readonly filterBefore: string;
  readonly filterError: string | null;
  readonly help: boolean;
  readonly confirm: { readonly action: 'stop'; readonly pipeline: string } | null;
  readonly notice: Notice | null;
  readonly detail: DetailData | null;
  readonly logs: LogView | null;
  /** Commands waiting for the app to carry them out, oldest first. */
  readonly outbox: readonly QueuedCommand[];
  readonly nextCommandId: number;
}

export type ViewAction =
  | { readonly type: 'connection'; readonly state: ConnectionState; readonly detail: string | null }
  | { readonly type: 'info'; readonly info: DaemonInfo; readonly at: number }
  | { readonly type: 'resources'; readonly resources: Resources }
  | { readonly type: 'pipelines'; readonly pipelines: readonly PipelineSummary[] }
  | { readonly type: 'runState'; readonly event: RunStateEvent }
  | { readonly type: 'progress'; readonly event: Progress }
  | {
      readonly type: 'detailLoaded';
      readonly pipeline: string;
      readonly status: PipelineStatus;
      readonly history: readonly RunRecord[];
      readonly why: readonly string[];
    }
  | { readonly type: 'detailFailed'; readonly pipeline: string; readonly error: string }
  | { readonly type: 'notice'; readonly notice: Notice | null }
  | { readonly type: 'batch'; readonly actions: readonly ViewAction[] }
  | { readonly type: 'move'; readonly delta: number }
  | { readonly type: 'moveTo'; readonly position: 'first' | 'last' }
  | { readonly type: 'openDetail' }
  | { readonly type: 'openLogs' }
  | { readonly type: 'back' }
  | { readonly type: 'filterStart' }
  | { readonly type: 'filterInput'; readonly text: string }
  | { readonly type: 'filterBackspace' }
  | { readonly type: 'filterCommit' }
  | { readonly type: 'filterCancel' }
  | { readonly type: 'sortNext' }
  | { readonly type: 'sortReverse' }
  | { readonly type: 'toggleHelp' }
  | { readonly type: 'confirmStop'; readonly pipeline: string }
  | { readonly type: 'confirmCancel' }
  | { readonly type: 'enqueue'; readonly command: Command }
  /** The app took every queued command with an id up to and including `throughId`. */
  | { readonly type: 'commandsTaken'; readonly throughId: number }
  | LogAction;

export function createViewState(): ViewState {
  return {
    connection: 'connecting',
    connectionDetail: null,
    info: null,
    infoReceivedAt: null,
    resources: null,
    pipelines: [],
    loaded: false,
    progress: {},
    screen: 'table',
    logsReturnTo: 'table',
    selected: null,
    sort: { key: 'name', descending: false },
    filter: '',
    filterEditing: false,
    filterBefore: '',
    filterError: null,
    help: false,
    confirm: null,
    notice: null,
    detail: null,
    logs: null,
    outbox: [],
    nextCommandId: 1,
  };
}

/** What the table shows, in order. */
export function visibleOf(state: ViewState): PipelineSummary[] {
  return visiblePipelines(state.pipelines, state.filterError === null ? state.filter : '', state.sort);
}

/** Index of the selection within `visible`; the first row when the selection is filtered out. */
export function selectedIndex(state: ViewState, visible: readonly PipelineSummary[]): number {
  if (visible.length === 0) return -1;
  const index = state.selected === null ? -1 : visible.findIndex((p) => p.name === state.selected);
  return index === -1 ? 0 : index;
}

/** The pipeline an action key applies to on the current screen. */
export function targetPipeline(state: ViewState): PipelineSummary | null {
  if (state.screen === 'detail' && state.detail !== null) return findPipeline(state, state.detail.pipeline);
  if (state.screen === 'logs' && state.logs !== null) return findPipeline(state, state.logs.pipeline);
  const visible = visibleOf(state);
  return visible[selectedIndex(state, visible)] ?? null;
}

function findPipeline(state: ViewState, name: string): PipelineSummary | null {
  return state.pipelines.find((p) => p.name === name) ?? null;
}

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

function openLogs(state: ViewState): ViewState {
  const target = targetPipeline(state);
  if (target === null) return state;
  const returnTo = state.screen === 'detail' ? 'detail' : 'table';
  return { ...state, screen: 'logs', logsReturnTo: returnTo, logs: createLogView(target.name), help: false };
}

function back(state: ViewState): ViewState {
  switch (state.screen) {
    case 'logs':
      return { ...state, screen: state.logsReturnTo, logs: null };
    case 'detail':
      return { ...state, screen: 'table', detail: null };
    case 'table':
      return state.filter === '' ? state : { ...state, filter: '', filterError: null };
  }
}

export function viewReducer(state: ViewState, action: ViewAction): ViewState {
  switch (action.type) {
    case 'batch':
      return action.actions.reduce(viewReducer, state);
    case 'connection':
      return { ...state, connection: action.state, connectionDetail: action.detail };
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
        },
      };
    case 'detailFailed':
      if (state.detail?.pipeline !== action.pipeline) return state;
      return { ...state, detail: { ...state.detail, error: action.error } };
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
        detail: { pipeline: target.name, status: null, history: [], why: [], error: null },
      };
    }
    case 'openLogs':
      return openLogs(state);
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
    case 'confirmStop':
      return { ...state, confirm: { action: 'stop', pipeline: action.pipeline } };
    case 'confirmCancel':
      return { ...state, confirm: null };
    case 'enqueue':
      return {
        ...state,
        outbox: [...state.outbox, { id: state.nextCommandId, command: action.command }],
        nextCommandId: state.nextCommandId + 1,
      };
    case 'commandsTaken':
      return { ...state, outbox: state.outbox.filter((queued) => queued.id > action.throughId) };
    case 'logLines':
    case 'logsTogglePause':
    case 'logsScroll':
    case 'logsFollow':
    case 'logsFailed':
    case 'searchStart':
    case 'searchInput':
    case 'searchBackspace':
    case 'searchCommit':
    case 'searchCancel':
    case 'searchJump':
      return state.logs === null ? state : { ...state, logs: applyLogAction(state.logs, action) };
  }
}

export type { LogView };
