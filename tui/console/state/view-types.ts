/**
 * The console's whole view state and the actions that change it. Data from the daemon and
 * operator intents arrive as actions; `view-state.ts` reduces them without any I/O.
 */
import type { ConnectionState } from '../../../shared/client/client.js';
import type {
  AccessRole,
  AlertRecord,
  DaemonInfo,
  EventData,
  PipelineFile,
  PipelineStatus,
  PipelineSummary,
  Resources,
  RunRecord,
} from '../../../shared/protocol.js';
import type { FleetHosts } from '../../../shared/protocol-hosts.js';
import type { RunTables } from '../../../shared/protocol-tables.js';
import type { Command, QueuedCommand } from './command.js';
import type { Details } from './details.js';
import type { LogAction, LogView } from './log-view.js';
import { createRecordList, type ListEdit, type Page, type RecordList } from './record-list.js';
import type { SortOrder } from './sort.js';

/** `table` is `:pipelines`; `runs` and `alerts` are the fleet-wide lists of the palette; `hosts` the fleet's daemons. */
export type Screen = 'table' | 'detail' | 'logs' | 'runs' | 'alerts' | 'yaml' | 'hosts';
export type ListName = 'runs' | 'alerts';
export type Progress = EventData<'run.progress'>;
export type RunStateEvent = EventData<'run.state'>;

export interface Notice {
  readonly text: string;
  readonly tone: 'info' | 'error';
}

/** An action that asks first: `y` sends `command`, anything else cancels. */
export interface Confirm {
  readonly question: string;
  readonly command: Command;
}

/** `B`: the cursor range to read again, typed field by field; the daemon checks it. */
export interface BackfillForm {
  readonly pipeline: string;
  /** The pipeline's cursor column, once known (its status says). */
  readonly cursor: string | null;
  readonly from: string;
  readonly to: string;
  readonly field: 'from' | 'to';
  /** The daemon's refusal of the last attempt, shown in the form. */
  readonly error: string | null;
  /** Sent, waiting for the daemon. */
  readonly sending: boolean;
}

export interface DetailData {
  readonly pipeline: string;
  readonly status: PipelineStatus | null;
  readonly history: readonly RunRecord[];
  readonly why: readonly string[];
  readonly error: string | null;
  /**
   * The tables of the pipeline's newest multi-table run (the `tables` method); absent or null
   * until they are known. A single-table pipeline's answer has no tables, and shows nothing.
   */
  readonly tables?: RunTables | null;
}

/**
 * `:hosts`: the daemons sharing the state store, as the daemon last answered `hosts` (null until
 * it has); kept when the view closes, so opening it again shows the last answer until the next.
 */
export interface HostsView {
  readonly result: FleetHosts | null;
  /** Why the last fetch failed (null: it did not). */
  readonly error: string | null;
}

/** `y`: a pipeline's file as the daemon read it from disk. */
export interface YamlView {
  readonly pipeline: string;
  readonly file: PipelineFile | null;
  readonly error: string | null;
  /** Lines scrolled past at the top. */
  readonly scroll: number;
}

export interface ViewState {
  readonly connection: ConnectionState;
  readonly connectionDetail: string | null;
  /** What the daemon lets this connection do (its hello); `read-only` refuses every action. */
  readonly role: AccessRole;
  readonly info: DaemonInfo | null;
  /** When `info` arrived (ms), so uptime keeps counting between refreshes. */
  readonly infoReceivedAt: number | null;
  readonly resources: Resources | null;
  readonly pipelines: readonly PipelineSummary[];
  readonly loaded: boolean;
  /** Latest progress per pipeline while a run is active. */
  readonly progress: Readonly<Record<string, Progress>>;
  readonly screen: Screen;
  /** Where `esc` leaves the log pane and the YAML view for. */
  readonly logsReturnTo: Screen;
  readonly yamlReturnTo: Screen;
  /** Selection by name, so it survives re-sorting and list refreshes. */
  readonly selected: string | null;
  readonly sort: SortOrder;
  readonly filter: string;
  readonly filterEditing: boolean;
  /** The filter before editing started, restored by `esc`. */
  readonly filterBefore: string;
  readonly filterError: string | null;
  readonly help: boolean;
  /** The `:` prompt, while it is open. */
  readonly palette: { readonly text: string } | null;
  /** The overlay `d` (or `enter` in a list) opened. */
  readonly details: Details | null;
  /** A question waiting for y/N: what `y` sends. */
  readonly confirm: Confirm | null;
  /** The backfill form (`B`), while it is open. */
  readonly backfill: BackfillForm | null;
  readonly notice: Notice | null;
  readonly detail: DetailData | null;
  readonly logs: LogView | null;
  readonly yaml: YamlView | null;
  readonly runs: RecordList<RunRecord>;
  readonly alerts: RecordList<AlertRecord>;
  readonly hosts: HostsView;
  /** Commands waiting for the app to carry them out, oldest first. */
  readonly outbox: readonly QueuedCommand[];
  readonly nextCommandId: number;
}

export type ViewAction =
  | { readonly type: 'connection'; readonly state: ConnectionState; readonly detail: string | null }
  | { readonly type: 'role'; readonly role: AccessRole }
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
  | { readonly type: 'detailTables'; readonly pipeline: string; readonly tables: RunTables }
  | { readonly type: 'runsLoaded'; readonly page: Page<RunRecord> }
  | { readonly type: 'alertsLoaded'; readonly page: Page<AlertRecord> }
  | { readonly type: 'listFailed'; readonly list: ListName; readonly error: string }
  | { readonly type: 'hostsLoaded'; readonly result: FleetHosts }
  | { readonly type: 'hostsFailed'; readonly error: string }
  | { readonly type: 'listEdit'; readonly list: ListName; readonly edit: ListEdit }
  | { readonly type: 'yamlLoaded'; readonly pipeline: string; readonly file: PipelineFile }
  | { readonly type: 'yamlFailed'; readonly pipeline: string; readonly error: string }
  | { readonly type: 'yamlScroll'; readonly delta: number }
  | { readonly type: 'notice'; readonly notice: Notice | null }
  | { readonly type: 'batch'; readonly actions: readonly ViewAction[] }
  | { readonly type: 'move'; readonly delta: number }
  | { readonly type: 'moveTo'; readonly position: 'first' | 'last' }
  | { readonly type: 'openDetail' }
  /** The selected pipeline's log; with `pipeline`, that one's; with `pipeline: null`, every pipeline's. */
  | { readonly type: 'openLogs'; readonly pipeline?: string | null }
  | { readonly type: 'openYaml' }
  | { readonly type: 'openView'; readonly view: 'table' | ListName | 'hosts'; readonly filter?: string }
  | { readonly type: 'back' }
  | { readonly type: 'filterStart' }
  | { readonly type: 'filterInput'; readonly text: string }
  | { readonly type: 'filterBackspace' }
  | { readonly type: 'filterCommit' }
  | { readonly type: 'filterCancel' }
  | { readonly type: 'sortNext' }
  | { readonly type: 'sortReverse' }
  | { readonly type: 'toggleHelp' }
  | { readonly type: 'paletteStart' }
  | { readonly type: 'paletteInput'; readonly text: string }
  | { readonly type: 'paletteBackspace' }
  | { readonly type: 'paletteComplete' }
  | { readonly type: 'paletteCancel' }
  | { readonly type: 'paletteCommit' }
  /** Opens the details of what is selected on the current screen. */
  | { readonly type: 'showDetails' }
  | { readonly type: 'detailsScroll'; readonly delta: number }
  | { readonly type: 'closeDetails' }
  | { readonly type: 'confirm'; readonly confirm: Confirm }
  | { readonly type: 'confirmCancel' }
  | { readonly type: 'backfillOpen'; readonly pipeline: string; readonly cursor: string | null }
  | { readonly type: 'backfillCursor'; readonly pipeline: string; readonly cursor: string | null }
  | { readonly type: 'backfillEdit'; readonly edit: BackfillEdit }
  | { readonly type: 'backfillSent' }
  | { readonly type: 'backfillFailed'; readonly pipeline: string; readonly error: string }
  | { readonly type: 'backfillClose' }
  | { readonly type: 'enqueue'; readonly command: Command }
  /** The app took every queued command with an id up to and including `throughId`. */
  | { readonly type: 'commandsTaken'; readonly throughId: number }
  | LogAction;

export type BackfillEdit =
  | { readonly kind: 'input'; readonly text: string }
  | { readonly kind: 'backspace' }
  | { readonly kind: 'switch' };

export function createViewState(): ViewState {
  return {
    connection: 'connecting',
    connectionDetail: null,
    role: 'operator',
    info: null,
    infoReceivedAt: null,
    resources: null,
    pipelines: [],
    loaded: false,
    progress: {},
    screen: 'table',
    logsReturnTo: 'table',
    yamlReturnTo: 'table',
    selected: null,
    sort: { key: 'name', descending: false },
    filter: '',
    filterEditing: false,
    filterBefore: '',
    filterError: null,
    help: false,
    palette: null,
    details: null,
    confirm: null,
    backfill: null,
    notice: null,
    detail: null,
    logs: null,
    yaml: null,
    runs: createRecordList<RunRecord>(),
    alerts: createRecordList<AlertRecord>(),
    hosts: { result: null, error: null },
    outbox: [],
    nextCommandId: 1,
  };
}
