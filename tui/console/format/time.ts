/** Durations and relative times in the words an operator reads at a glance. */

const MINUTE = 60;
const HOUR = 3_600;
const DAY = 86_400;

/** `37s`, `4m 05s`, `2h 03m`, `3d 4h`. */
export function formatElapsed(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return '—';
  const s = Math.floor(seconds);
  if (s < MINUTE) return `${s}s`;
  if (s < HOUR) return `${Math.floor(s / MINUTE)}m ${pad(s % MINUTE)}s`;
  if (s < DAY) return `${Math.floor(s / HOUR)}h ${pad(Math.floor((s % HOUR) / MINUTE))}m`;
  return `${Math.floor(s / DAY)}d ${Math.floor((s % DAY) / HOUR)}h`;
}

function pad(value: number): string {
  return value.toString().padStart(2, '0');
}

/** The coarsest unit that still says something: `45 s`, `37 min`, `5 h`, `3 d`. */
function coarse(seconds: number): string {
  const s = Math.round(Math.abs(seconds));
  if (s < MINUTE) return `${s} s`;
  if (s < HOUR) return `${Math.round(s / MINUTE)} min`;
  if (s < 2 * DAY) return `${Math.round(s / HOUR)} h`;
  return `${Math.round(s / DAY)} d`;
}

/** `in 37 min`, `5 min ago`, `now`; `—` for a missing or unparsable time. */
export function formatRelative(iso: string | null, nowMs: number): string {
  if (iso === null) return '—';
  const at = Date.parse(iso);
  if (Number.isNaN(at)) return '—';
  const seconds = (at - nowMs) / 1000;
  if (Math.abs(seconds) < 1.5) return 'now';
  return seconds > 0 ? `in ${coarse(seconds)}` : `${coarse(seconds)} ago`;
}

/** Compact form for table cells: `in 37m`, `5m ago`. */
export function formatRelativeShort(iso: string | null, nowMs: number): string {
  return formatRelative(iso, nowMs)
    .replace(' min', 'm')
    .replace(/ ([shd])\b/, '$1');
}

/** Seconds between two ISO times, or until `nowMs` when the end is still open. */
export function durationSeconds(
  startIso: string | null,
  endIso: string | null,
  nowMs: number,
): number | null {
  if (startIso === null) return null;
  const start = Date.parse(startIso);
  const end = endIso === null ? nowMs : Date.parse(endIso);
  if (Number.isNaN(start) || Number.isNaN(end) || end < start) return null;
  return (end - start) / 1000;
}

/** Time left for `remaining` rows at `rowsPerSecond`; null when it cannot be estimated. */
export function etaSeconds(remaining: number | null, rowsPerSecond: number): number | null {
  if (remaining === null || remaining < 0 || !(rowsPerSecond > 0)) return null;
  return remaining / rowsPerSecond;
}

/** `2026-05-21 10:00:03` in the console's timezone: log lines outlive a day, so they carry the date. */
export function formatDateTime(iso: string): string {
  const at = new Date(iso);
  if (Number.isNaN(at.getTime())) return '----------  --:--:--';
  const date = `${at.getFullYear()}-${pad(at.getMonth() + 1)}-${pad(at.getDate())}`;
  return `${date} ${pad(at.getHours())}:${pad(at.getMinutes())}:${pad(at.getSeconds())}`;
}
