/**
 * Short human descriptions of a pipeline for `list`/`status`: its schedule in words, its source
 * and destination (never a secret: only host, port, database, table, path).
 */
import { sourceConnection, type PipelineConfig } from '../../shared/config/pipeline-schema.js';
import type { Schedule } from '../../shared/config/schedule.js';
import { formatDuration } from '../../shared/config/duration.js';

const pad = (n: string): string => n.padStart(2, '0');
const DAYS = ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday'];

/** Words for the common shapes; anything else reads as the cron expression itself. */
export function describeSchedule(schedule: Schedule, zone: string): string {
  switch (schedule.kind) {
    case 'manual':
      return 'manual only';
    case 'every':
      return `every ${formatDuration(schedule.intervalMs)} from midnight (${zone})`;
    case 'at':
      return `once at ${schedule.localDateTime.replace('T', ' ')} (${zone})`;
    case 'cron':
      return `${describeCron(schedule.expression)} (${zone})`;
  }
}

function describeCron(expression: string): string {
  const fields = expression.trim().split(/\s+/);
  if (fields.length !== 5) return `cron ${expression}`;
  const [minute = '', hour = '', dom = '', month = '', dow = ''] = fields;
  const fixed = (text: string): boolean => /^\d+$/.test(text);
  if (fixed(minute) && hour === '*' && dom === '*' && month === '*' && dow === '*')
    return `every hour at :${pad(minute)}`;
  if (fixed(minute) && fixed(hour) && month === '*') {
    const time = `${pad(hour)}:${pad(minute)}`;
    if (dom === '*' && dow === '*') return `every day at ${time}`;
    if (dom === '*' && fixed(dow)) return `every ${DAYS[Number(dow) % 7] ?? dow} at ${time}`;
    if (fixed(dom) && dow === '*') return `monthly on day ${dom} at ${time}`;
  }
  const step = /^\*\/(\d+)$/.exec(hour);
  if (fixed(minute) && step && dom === '*' && month === '*' && dow === '*')
    return `every ${step[1]} hours at :${pad(minute)}`;
  const minuteStep = /^\*\/(\d+)$/.exec(minute);
  if (minuteStep && hour === '*' && dom === '*' && month === '*' && dow === '*')
    return `every ${minuteStep[1]} minutes`;
  return `cron ${expression}`;
}

export function describeSource(config: PipelineConfig): string {
  const { source } = config;
  if (source.type === 'files') return `files ${source.url ?? ''} ${source.pattern ?? '**/*'}`;
  const c = sourceConnection(source);
  const where =
    c.host !== undefined ? `${c.host}${c.port !== undefined ? `:${c.port}` : ''}` : (c.socket ?? 'local');
  const what = source.table ?? (source.tables === undefined ? 'query' : `tables ${source.tables.join(', ')}`);
  const shards = source.shards ? ` (${source.shards.length} shards)` : '';
  return `${source.type} ${where}${c.database !== undefined ? `/${c.database}` : ''} ${what}${shards}`;
}

export function describeDestination(config: PipelineConfig): string {
  const d = config.destination;
  switch (d.type) {
    case 'delta':
      return `delta ${d.path}`;
    case 'duckdb':
      return `duckdb ${d.path} ${d.table}`;
    case 'postgres':
      return `postgres ${d.connection.host ?? 'local'}${d.connection.port !== undefined ? `:${d.connection.port}` : ''}${d.connection.database !== undefined ? `/${d.connection.database}` : ''} ${d.table}`;
    case 'bigquery':
      return `bigquery ${d.project}.${d.dataset}.${d.table}`;
  }
}
