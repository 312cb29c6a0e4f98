/**
 * Details on demand (`d`, or `enter` in the `:runs` and `:alerts` lists): lists and the detail view
 * show an error's first line only, so their layout holds; the whole message, with everything else
 * known about the run or alert, opens in an overlay.
 */
import type { AlertRecord, PipelineStatus, PipelineSummary, RunRecord } from '../../../shared/protocol.js';

export interface Details {
  readonly title: string;
  readonly body: string;
  /** Rows scrolled past at the top of a body longer than the screen. */
  readonly scroll: number;
}

function lines(fields: readonly (readonly [string, string | number | null])[]): string {
  const width = Math.max(...fields.map(([k]) => k.length)) + 2;
  return fields
    .filter(([, v]) => v !== null)
    .map(([k, v]) => `${`${k}:`.padEnd(width)}${String(v)}`)
    .join('\n');
}

export function runDetails(run: RunRecord): Details {
  const head = lines([
    ['run', run.id],
    ['pipeline', run.pipeline],
    ['status', run.status],
    ['trigger', run.trigger],
    ['attempts', run.attempt],
    ['started', run.started_at ?? '—'],
    ['finished', run.finished_at ?? '—'],
    ['rows', `${run.rows_extracted} extracted, ${run.rows_loaded} loaded`],
    ['first failure', run.first_failure_at],
    ['verdict', run.verdict],
  ]);
  const error = run.error === null ? '' : `\n\nerror ${run.error.code}:\n${run.error.message}`;
  return { title: `run ${run.id} · ${run.status}`, body: `${head}${error}`, scroll: 0 };
}

export function alertDetails(alert: AlertRecord): Details {
  const head = lines([
    ['alert', `${alert.kind} · ${alert.status}`],
    ['pipeline', alert.pipeline],
    ['run', alert.run_id],
    ['at', alert.created_at],
    ['to', alert.recipients],
  ]);
  const detail = alert.detail === null ? '' : `\n\n${alert.detail}`;
  return { title: alert.subject, body: `${head}${detail}`, scroll: 0 };
}

/** A pipeline's last error (of its last run, else its statistics) and the problems of its file; null without either. */
export function pipelineDetails(pipeline: PipelineSummary, status: PipelineStatus | null): Details | null {
  const last = status?.last_run ?? pipeline.last_run;
  const error = last?.error ?? status?.stats.last_error ?? null;
  const parts: string[] = [];
  if (pipeline.problems.length > 0)
    parts.push(`problems in ${pipeline.file}:\n${pipeline.problems.join('\n')}`);
  if (error !== null) {
    const where = last?.error ? `run ${last.id} (${last.status})` : 'an earlier run';
    const since = last?.first_failure_at ? `\nfailing since ${last.first_failure_at}` : '';
    parts.push(`last error, of ${where}:${since}\n${error.code}: ${error.message}`);
  }
  if (parts.length === 0) return null;
  return { title: `${pipeline.name} · ${pipeline.state}`, body: parts.join('\n\n'), scroll: 0 };
}
