/** What the screens show and what keys act on, read from the view state. */
import type { AlertRecord, PipelineSummary, RunRecord } from '../../../shared/protocol.js';
import { ALERT_LIST, RUN_LIST, selectedRecord } from './record-list.js';
import { visiblePipelines } from './sort.js';
import type { ViewState } from './view-types.js';

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

export function findPipeline(state: ViewState, name: string): PipelineSummary | null {
  return state.pipelines.find((p) => p.name === name) ?? null;
}

export function selectedRun(state: ViewState): RunRecord | null {
  return selectedRecord(state.runs, RUN_LIST);
}

export function selectedAlert(state: ViewState): AlertRecord | null {
  return selectedRecord(state.alerts, ALERT_LIST);
}

/** The pipeline an action key (or `y`) applies to on the current screen. */
export function targetPipeline(state: ViewState): PipelineSummary | null {
  switch (state.screen) {
    case 'detail':
      return state.detail === null ? null : findPipeline(state, state.detail.pipeline);
    case 'logs':
      return state.logs?.pipeline == null ? null : findPipeline(state, state.logs.pipeline);
    case 'yaml':
      return state.yaml === null ? null : findPipeline(state, state.yaml.pipeline);
    case 'runs': {
      const run = selectedRun(state);
      return run === null ? null : findPipeline(state, run.pipeline);
    }
    case 'alerts': {
      const alert = selectedAlert(state);
      return alert === null ? null : findPipeline(state, alert.pipeline);
    }
    case 'table': {
      const visible = visibleOf(state);
      return visible[selectedIndex(state, visible)] ?? null;
    }
    case 'hosts':
      return null;
  }
}
