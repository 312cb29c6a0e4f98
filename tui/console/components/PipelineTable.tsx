import type { JSX } from 'react';
import type { PipelineSummary } from '../../../shared/protocol.js';
import { firstLine, oneLineError } from '../format/text.js';
import {
  type CellText,
  durationCell,
  lastRunCell,
  nextRunCell,
  rowsCell,
  scheduleAndNextCell,
  scheduleWords,
  stateCell,
  throughputCell,
} from '../format/pipeline-cells.js';
import type { Progress } from '../state/view-state.js';
import { Table, type Column } from './Table.js';

export type Props = {
  /** The filtered, sorted list; only the window around the selection is drawn. */
  readonly pipelines: readonly PipelineSummary[];
  readonly selected: number;
  readonly progress: Readonly<Record<string, Progress>>;
  readonly width: number;
  /** Body rows available (excluding the header row). */
  readonly height: number;
  readonly nowMs: number;
  readonly emptyText: string;
};

/** A name column never narrower than its header nor wider than this: wide terminals spend width on content. */
const NAME_MIN = 10;
const NAME_MAX = 32;
/** Below this an error column says too little to be worth its place. */
const ERROR_MIN = 16;
/** What an error column should keep before the destination column is added. */
const ERROR_ROOMY = 64;
const DESTINATION_WIDTH = 16;

/** The last run's error (or the file's first problem) in one line, for the ERROR column. */
export function errorCell(pipeline: PipelineSummary): CellText {
  const problem = pipeline.problems[0];
  if (problem !== undefined) return { text: firstLine(problem).line, color: 'magenta' };
  const error = pipeline.last_run?.error;
  if (error == null || pipeline.last_run?.status === 'succeeded') return { text: '' };
  return { text: oneLineError(error), color: 'red' };
}

function longest(pipelines: readonly PipelineSummary[], text: (p: PipelineSummary) => string): number {
  return pipelines.reduce((max, p) => Math.max(max, [...text(p)].length), 0);
}

/**
 * Columns for the terminal width: 80 columns get the essentials, wider terminals get detail.
 * NAME is as wide as the longest name (within bounds); width beyond what the fixed columns need
 * goes to the schedule and the last run, up to what their texts need, and then to the errors.
 */
export function pipelineColumns(
  width: number,
  progress: Readonly<Record<string, Progress>>,
  nowMs: number,
  pipelines: readonly PipelineSummary[] = [],
): Column<PipelineSummary>[] {
  const gaps = (count: number): number => 2 + (count - 1);
  const state: Column<PipelineSummary> = { header: 'STATE', width: 8, cell: stateCell };
  const rows: Column<PipelineSummary> = {
    header: 'ROWS',
    width: 6,
    align: 'right',
    cell: (p) => rowsCell(p, progress[p.name]),
  };
  const rate: Column<PipelineSummary> = {
    header: 'ROWS/S',
    width: 9,
    align: 'right',
    cell: (p) => throughputCell(p, progress[p.name], nowMs),
  };
  const lastRun = (w: number): Column<PipelineSummary> => ({
    header: 'LAST RUN',
    width: w,
    cell: (p) => lastRunCell(p, nowMs),
  });
  const duration: Column<PipelineSummary> = {
    header: 'DURATION',
    width: 8,
    align: 'right',
    cell: (p) => durationCell(p, nowMs),
  };
  const nameWant = Math.min(
    Math.max(
      longest(pipelines, (p) => p.name),
      NAME_MIN,
    ),
    NAME_MAX,
  );
  const lastWant = Math.min(
    Math.max(
      longest(pipelines, (p) => lastRunCell(p, nowMs).text),
      16,
    ),
    24,
  );

  let schedule: Column<PipelineSummary>;
  let scheduleWant: number;
  let before: Column<PipelineSummary>[];
  let last: Column<PipelineSummary>;
  let after: Column<PipelineSummary>[];
  let errors = false;
  if (width >= 120) {
    schedule = { header: 'SCHEDULE', width: 26, cell: (p) => ({ text: scheduleWords(p) }) };
    scheduleWant = Math.min(
      Math.max(
        longest(pipelines, (p) => scheduleWords(p)),
        26,
      ),
      44,
    );
    before = [{ ...state, width: 9 }];
    last = lastRun(16);
    after = [duration, { ...rows, width: 7 }, { ...rate, width: 10 }];
    errors = true;
  } else if (width >= 96) {
    schedule = { header: 'SCHEDULE / NEXT RUN', width: 26, cell: (p) => scheduleAndNextCell(p, nowMs) };
    scheduleWant = Math.min(
      Math.max(
        longest(pipelines, (p) => scheduleAndNextCell(p, nowMs).text),
        26,
      ),
      40,
    );
    before = [{ ...state, width: 9 }];
    last = lastRun(16);
    after = [duration, rows, rate];
  } else {
    schedule = { header: 'SCHEDULE / NEXT', width: 22, cell: (p) => scheduleAndNextCell(p, nowMs, true) };
    scheduleWant = 22;
    // Nine wide like the others: `retrying*` keeps its last-good flag.
    before = [{ ...state, width: 9 }];
    last = lastRun(14);
    after = [rows, rate];
  }
  const nextRun: Column<PipelineSummary>[] =
    width >= 120 ? [{ header: 'NEXT RUN', width: 12, cell: (p) => nextRunCell(p, nowMs) }] : [];
  const fixedColumns = [...before, schedule, ...nextRun, last, ...after];
  const fixed = fixedColumns.reduce((sum, c) => sum + c.width, 0) + gaps(fixedColumns.length + 1);
  const room = Math.max(width - fixed - 1, NAME_MIN);
  // An 80-column terminal is tight: there the name keeps all that is left, as before.
  const nameWidth = width < 96 ? room : Math.min(nameWant, room);
  let spare = room - nameWidth;
  const grow = (column: Column<PipelineSummary>, want: number): Column<PipelineSummary> => {
    const extra = Math.min(Math.max(want - column.width, 0), spare);
    spare -= extra;
    return { ...column, width: column.width + extra };
  };
  const grownSchedule = grow(schedule, scheduleWant);
  const grownLast = grow(last, lastWant);
  // The destination is context, the error is news: it gets a column only once errors have room.
  if (errors && width >= 140 && spare - DESTINATION_WIDTH - 1 >= ERROR_ROOMY) {
    after.push({
      header: 'DESTINATION',
      width: DESTINATION_WIDTH,
      cell: (p) => ({ text: p.destination ?? '—' }),
    });
    spare -= DESTINATION_WIDTH + 1;
  }
  const columns: Column<PipelineSummary>[] = [
    { header: 'NAME', width: nameWidth, cell: (p) => ({ text: p.name, bold: true }) },
    ...before,
    grownSchedule,
    ...nextRun,
    grownLast,
    ...after,
  ];
  if (errors && spare - 1 >= ERROR_MIN) {
    columns.push({ header: 'ERROR', width: spare - 1, cell: errorCell });
  } else if (spare > 0) {
    // Nothing else wants it: the schedule reads best with room to spare.
    const index = columns.indexOf(grownSchedule);
    columns[index] = { ...grownSchedule, width: grownSchedule.width + spare };
  }
  return columns;
}

export function PipelineTable({
  pipelines,
  selected,
  progress,
  width,
  height,
  nowMs,
  emptyText,
}: Props): JSX.Element {
  return (
    <Table
      columns={pipelineColumns(width, progress, nowMs, pipelines)}
      rows={pipelines}
      rowKey={(p) => p.name}
      selected={selected}
      height={height}
      empty={emptyText}
    />
  );
}
