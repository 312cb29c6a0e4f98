/**
 * The console: state in a reducer, the daemon behind `useDaemon`, and presentational
 * components laid out for the terminal size.
 */
import { useEffect, useMemo, useReducer, type JSX } from 'react';
import { Box, useApp, useInput, useWindowSize } from 'ink';
import type { DaemonClient } from '../../shared/client/client.js';
import { AlertsView } from './components/AlertsView.js';
import { HostsView } from './components/HostsView.js';
import { DetailsOverlay } from './components/DetailsOverlay.js';
import { DetailView } from './components/DetailView.js';
import { Header } from './components/Header.js';
import { HelpOverlay } from './components/HelpOverlay.js';
import { keyBarLines, KeyBar } from './components/KeyBar.js';
import { LogPane } from './components/LogPane.js';
import { PipelineTable } from './components/PipelineTable.js';
import { RunsView } from './components/RunsView.js';
import { StatusLine, type Prompt } from './components/StatusLine.js';
import { YamlView } from './components/YamlView.js';
import { compileFilter } from './state/filter.js';
import { ThemeContext } from './hooks/use-theme.js';
import { useClock } from './hooks/use-clock.js';
import { EVERY_PIPELINE, useDaemon } from './hooks/use-daemon.js';
import { consoleReducer } from './state/console-reducer.js';
import { paletteSuggestions } from './state/palette.js';
import {
  ALERT_LIST,
  listContext,
  listEmptyText,
  listRequest,
  RUN_LIST,
  selectedRecordIndex,
  visibleRecords,
} from './state/record-list.js';
import { createViewState, selectedIndex, type ViewState } from './state/view-state.js';
import { visiblePipelines } from './state/sort.js';

export type Props = {
  readonly connect: () => Promise<DaemonClient>;
  readonly readonly: boolean;
  readonly color: boolean;
  readonly clock?: () => number;
  /** Overrides the terminal size (tests; the real terminal is measured). */
  readonly size?: { readonly columns: number; readonly rows: number };
  readonly flushIntervalMs?: number;
  readonly retryDelayMs?: number;
};

const HEADER_LINES = 3;
const NOTICE_MS = 8000;

function contextText(state: ViewState, shown: number, total: number): string {
  const sort = `sort ${state.sort.key.replace('_', ' ')} ${state.sort.descending ? '↓' : '↑'}`;
  const filter =
    state.filter === ''
      ? ''
      : ` · filter ${compileFilter(state.filter).ok ? `"${state.filter}"` : '(invalid)'}`;
  return `${shown} of ${total} pipelines · ${sort}${filter}`;
}

/** Why actions are unavailable, for the help; null when they are. */
function readonlyReason(flag: boolean, state: ViewState): string | null {
  if (flag) return '--readonly given';
  return state.role === 'read-only' ? 'the daemon refuses' : null;
}

export function App({
  connect,
  readonly,
  color,
  clock = Date.now,
  size,
  flushIntervalMs,
  retryDelayMs,
}: Props): JSX.Element {
  const [state, dispatch] = useReducer(consoleReducer, undefined, createViewState);
  const measured = useWindowSize();
  const columns = size?.columns ?? measured.columns;
  const rows = size?.rows ?? measured.rows;
  const now = useClock(clock, 1000);
  const { exit } = useApp();
  const listName = state.screen === 'runs' || state.screen === 'alerts' ? state.screen : null;

  const runCommand = useDaemon({
    connect,
    dispatch,
    detailPipeline: state.detail?.pipeline ?? null,
    logPipeline: state.logs === null ? null : (state.logs.pipeline ?? EVERY_PIPELINE),
    list: listName === null ? null : listRequest(listName, state[listName]),
    yamlPipeline: state.yaml?.pipeline ?? null,
    hostsOpen: state.screen === 'hosts',
    backfillPipeline: state.backfill?.cursor === null ? state.backfill.pipeline : null,
    clock,
    flushIntervalMs,
    retryDelayMs,
  });

  // Carry out queued commands exactly once each.
  useEffect(() => {
    const last = state.outbox.at(-1);
    if (last === undefined) return;
    dispatch({ type: 'commandsTaken', throughId: last.id });
    for (const { command } of state.outbox) {
      if (command.kind === 'quit') exit();
      else runCommand(command);
    }
  }, [state.outbox, runCommand, exit]);

  useEffect(() => {
    if (state.notice === null) return;
    const timer = setTimeout(() => dispatch({ type: 'notice', notice: null }), NOTICE_MS);
    return () => clearTimeout(timer);
  }, [state.notice]);

  const reason = readonlyReason(readonly, state);
  // Every pipeline's log has no pipeline to act on; a read-only console has no actions at all.
  const noActions = reason !== null || (state.screen === 'logs' && state.logs?.pipeline === null);
  const keyLines = keyBarLines(state.screen, noActions, columns).length;
  // One spare line: a frame as tall as the terminal makes Ink clear the screen on every update.
  const bodyHeight = Math.max(rows - HEADER_LINES - keyLines - 1 - 1, 3);

  useInput((input, key) => {
    dispatch({ type: 'key', input, key, options: { readonly, pageSize: Math.max(bodyHeight - 2, 1) } });
  });

  const visible = useMemo(
    () => visiblePipelines(state.pipelines, state.filterError === null ? state.filter : '', state.sort),
    [state.pipelines, state.filter, state.filterError, state.sort],
  );
  const selected = selectedIndex(state, visible);
  const runs = useMemo(() => visibleRecords(state.runs, RUN_LIST), [state.runs]);
  const alerts = useMemo(() => visibleRecords(state.alerts, ALERT_LIST), [state.alerts]);

  let body: JSX.Element;
  let context = '';
  if (state.details !== null) {
    body = <DetailsOverlay details={state.details} width={columns} height={bodyHeight} />;
  } else if (state.help) {
    body = <HelpOverlay readonly={reason} />;
  } else if (state.screen === 'logs' && state.logs !== null) {
    body = <LogPane view={state.logs} width={columns} height={bodyHeight} />;
  } else if (state.screen === 'yaml' && state.yaml !== null) {
    body = <YamlView view={state.yaml} width={columns} height={bodyHeight} nowMs={now} />;
  } else if (state.screen === 'hosts') {
    body = <HostsView hosts={state.hosts} width={columns} height={bodyHeight} nowMs={now} />;
  } else if (listName !== null) {
    const list = state[listName];
    const shown = listName === 'runs' ? runs : alerts;
    context = listContext(list, shown.length, listName);
    const common = {
      width: columns,
      height: bodyHeight,
      nowMs: now,
      emptyText: listEmptyText(list, listName),
    };
    body =
      listName === 'runs' ? (
        <RunsView runs={runs} selected={selectedRecordIndex(state.runs, RUN_LIST, runs)} {...common} />
      ) : (
        <AlertsView
          alerts={alerts}
          selected={selectedRecordIndex(state.alerts, ALERT_LIST, alerts)}
          {...common}
        />
      );
  } else if (state.screen === 'detail' && state.detail !== null) {
    const name = state.detail.pipeline;
    body = (
      <DetailView
        pipeline={state.pipelines.find((p) => p.name === name) ?? null}
        detail={state.detail}
        progress={state.progress[name]}
        width={columns}
        height={bodyHeight}
        nowMs={now}
      />
    );
  } else {
    context = contextText(state, visible.length, state.pipelines.length);
    const emptyText = !state.loaded
      ? state.connection === 'connected'
        ? 'loading pipelines…'
        : 'waiting for the daemon…'
      : state.pipelines.length === 0
        ? 'no pipelines: add YAML files to the pipelines directory'
        : 'no pipeline matches the filter';
    body = (
      <PipelineTable
        pipelines={visible}
        selected={selected}
        progress={state.progress}
        width={columns}
        height={bodyHeight - 1}
        nowMs={now}
        emptyText={emptyText}
      />
    );
  }

  const list = listName === null ? null : state[listName];
  let prompt: Prompt | null = null;
  if (state.palette !== null) {
    const suggestions = paletteSuggestions(state.palette.text);
    prompt = {
      label: ':',
      text: state.palette.text,
      error: null,
      hint:
        suggestions.length > 0 ? suggestions.map((s) => `:${s}`).join('  ') : 'enter opens it, esc closes',
    };
  } else if (state.filterEditing) {
    prompt = { label: 'filter /', text: state.filter, error: state.filterError, hint: context };
  } else if (list?.filterEditing === true) {
    prompt = { label: 'filter /', text: list.filter, error: list.filterError, hint: context };
  } else if (state.backfill !== null) {
    const form = state.backfill;
    const field = (name: 'from' | 'to'): string =>
      `${name} ${form.field === name ? `[${form[name]}▏]` : `[${form[name]}]`}`;
    prompt = {
      label: `backfill ${form.pipeline}`,
      text: ` (cursor ${form.cursor ?? '…'}) ${field('from')} ${field('to')}`,
      error: form.error,
      hint: form.sending ? 'checking the range…' : 'tab switches, enter starts, esc cancels',
      cursor: false,
    };
  } else if (state.logs?.searchEditing === true) {
    prompt = { label: 'search /', text: state.logs.search, error: state.logs.searchError, hint: '' };
  }

  return (
    <ThemeContext.Provider value={{ color }}>
      <Box flexDirection="column" width={columns}>
        <Header
          info={state.info}
          infoReceivedAt={state.infoReceivedAt}
          resources={state.resources}
          connection={state.connection}
          connectionDetail={state.connectionDetail}
          pipelines={state.pipelines}
          nowMs={now}
          readonly={reason !== null}
        />
        <Box height={bodyHeight} flexDirection="column" overflow="hidden">
          {body}
        </Box>
        <StatusLine
          confirm={state.confirm?.question ?? null}
          prompt={prompt}
          notice={state.notice}
          context={context}
        />
        <KeyBar screen={state.screen} readonly={noActions} width={columns} />
      </Box>
    </ThemeContext.Provider>
  );
}
