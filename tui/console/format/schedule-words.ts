/**
 * Schedules in human words ("every 2 hours", "daily at 02:30"). The daemon usually sends
 * `schedule_human`; this is the fallback for the common shapes of the schedule syntax,
 * and anything unusual is shown verbatim rather than guessed at.
 */
import { formatRelative, formatRelativeShort } from './time.js';

const PRESET_WORDS: Record<string, string> = {
  '@hourly': 'hourly',
  '@daily': 'daily at 00:00',
  '@midnight': 'daily at 00:00',
  '@weekly': 'weekly on Sunday at 00:00',
  '@monthly': 'monthly on day 1 at 00:00',
  '@yearly': 'yearly on 1 Jan',
  '@annually': 'yearly on 1 Jan',
};

const DAY_NAMES = ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday'] as const;
const UNIT_WORDS = { ms: 'ms', s: 'second', m: 'minute', h: 'hour', d: 'day' } as const;

function plural(count: number, word: string): string {
  return count === 1 ? word : `${count} ${word}s`;
}

function isNumber(field: string): boolean {
  return /^\d+$/.test(field);
}

function step(field: string): number | null {
  const match = /^\*\/(\d+)$/.exec(field);
  return match ? Number(match[1]) : null;
}

function hhmm(hour: string, minute: string): string {
  return `${hour.padStart(2, '0')}:${minute.padStart(2, '0')}`;
}

function describeEvery(interval: string): string | null {
  const match = /^(\d+)(ms|s|m|h|d)$/.exec(interval);
  if (!match) return null;
  const count = Number(match[1]);
  const unit = UNIT_WORDS[match[2] as keyof typeof UNIT_WORDS];
  return `every ${plural(count, unit)}`;
}

function describeCron(fields: readonly string[]): string | null {
  // Six fields carry seconds first; only whole-minute schedules are put into words.
  const five = fields.length === 6 ? (fields[0] === '0' ? fields.slice(1) : null) : fields;
  if (five === null || five.length !== 5) return null;
  const [minute = '', hour = '', dom = '', month = '', dow = ''] = five;
  if (month !== '*') return null;
  const everyDay = dom === '*' && dow === '*';

  if (minute === '*' && hour === '*' && everyDay) return 'every minute';
  const minuteStep = step(minute);
  if (minuteStep !== null && hour === '*' && everyDay) return `every ${plural(minuteStep, 'minute')}`;
  if (!isNumber(minute)) return null;
  if (hour === '*' && everyDay) return minute === '0' ? 'hourly' : `hourly at :${minute.padStart(2, '0')}`;
  const hourStep = step(hour);
  if (hourStep !== null && everyDay) {
    return `every ${plural(hourStep, 'hour')}${minute === '0' ? '' : ` at :${minute.padStart(2, '0')}`}`;
  }
  if (!isNumber(hour)) return null;
  const at = hhmm(hour, minute);
  if (everyDay) return `daily at ${at}`;
  if (dom === '*' && isNumber(dow)) {
    const day = DAY_NAMES[Number(dow) % 7];
    return day === undefined ? null : `weekly on ${day} at ${at}`;
  }
  if (dom === '*' && dow === '1-5') return `weekdays at ${at}`;
  if (isNumber(dom) && dow === '*') return `monthly on day ${dom} at ${at}`;
  return null;
}

/** Words for a schedule as written in a pipeline file; `manual` when there is none. */
export function describeSchedule(schedule: string | null): string {
  if (schedule === null) return 'manual';
  const text = schedule.trim();
  if (text === '' || text === 'manual') return 'manual';
  const preset = PRESET_WORDS[text.toLowerCase()];
  if (preset !== undefined) return preset;
  const every = /^every\s+(\S+)$/.exec(text);
  if (every) return describeEvery(every[1] ?? '') ?? text;
  const at = /^at\s+(\S+)$/.exec(text);
  if (at) return `once at ${(at[1] ?? '').replace('T', ' ')}`;
  return describeCron(text.split(/\s+/)) ?? text;
}

/** "every 2 hours, in 37 min", or just the schedule when no next run is planned. */
export function describeNextRun(
  scheduleWords: string,
  nextRunAt: string | null,
  nowMs: number,
  paused: boolean,
  compact = false,
): string {
  if (paused) return `${scheduleWords}, paused`;
  if (nextRunAt === null) return scheduleWords;
  return `${scheduleWords}, ${compact ? formatRelativeShort(nextRunAt, nowMs) : formatRelative(nextRunAt, nowMs)}`;
}
