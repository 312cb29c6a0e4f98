/**
 * Wall-clock arithmetic in IANA time zones with nothing but Intl (no tz library): the offset of a
 * zone at an instant, the local fields of an instant, and the instant of a local wall-clock time,
 * resolving the two DST cases the way cron does (see `resolveLocal`).
 */

export interface LocalFields {
  readonly year: number;
  readonly month: number;
  readonly day: number;
  readonly hour: number;
  readonly minute: number;
  readonly second: number;
}

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatter(zone: string): Intl.DateTimeFormat {
  let f = formatters.get(zone);
  if (f === undefined) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone: zone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    });
    formatters.set(zone, f);
  }
  return f;
}

/** The local date and time of `instantMs` in `zone`. */
export function localFields(instantMs: number, zone: string): LocalFields {
  const values: Record<string, number> = {};
  for (const part of formatter(zone).formatToParts(new Date(instantMs))) {
    if (part.type !== 'literal') values[part.type] = Number(part.value);
  }
  return {
    year: values.year ?? 1970,
    month: values.month ?? 1,
    day: values.day ?? 1,
    hour: values.hour ?? 0,
    minute: values.minute ?? 0,
    second: values.second ?? 0,
  };
}

/** Local fields as a number on a UTC-like axis ("wall milliseconds"), handy for comparisons. */
export function wallMs(fields: LocalFields): number {
  return Date.UTC(fields.year, fields.month - 1, fields.day, fields.hour, fields.minute, fields.second);
}

/** The zone's offset from UTC at `instantMs`, in ms (Warsaw in summer: +7,200,000). */
export function offsetAt(instantMs: number, zone: string): number {
  const whole = Math.floor(instantMs / 1000) * 1000;
  return wallMs(localFields(whole, zone)) - whole;
}

const DAY_MS = 86_400_000;

/**
 * The instant of local wall time `wall` (wall milliseconds) in `zone`.
 * - A time that occurs twice (fall-back) resolves to its first occurrence, so it fires once.
 * - A time that does not exist (spring-forward gap) resolves to the first instant after the gap,
 *   so a run due in the gap fires once as soon as the clock has jumped (ISC/Vixie cron's rule for
 *   fixed-time jobs: "run immediately after the change", never lost, never doubled).
 */
export function resolveLocal(wall: number, zone: string): number {
  const before = offsetAt(wall - DAY_MS, zone);
  const after = offsetAt(wall + DAY_MS, zone);
  const candidates: number[] = [];
  for (const offset of new Set([before, after, offsetAt(wall, zone)])) {
    const instant = wall - offset;
    if (offsetAt(instant, zone) === offset) candidates.push(instant);
  }
  if (candidates.length > 0) return Math.min(...candidates);
  return gapEnd(wall, zone, before, after);
}

/** Binary search for the transition instant that skips over `wall`. */
function gapEnd(wall: number, zone: string, before: number, after: number): number {
  // With the old offset the wall time maps past the transition, with the new one before it.
  let lo = wall - Math.max(before, after);
  let hi = wall - Math.min(before, after);
  const loOffset = offsetAt(lo, zone);
  while (hi - lo > 1000) {
    const mid = lo + Math.floor((hi - lo) / 2000) * 1000;
    if (offsetAt(mid, zone) === loOffset) lo = mid;
    else hi = mid;
  }
  return hi;
}

/** The instant of local midnight starting the local day that contains `instantMs`. */
export function startOfLocalDay(instantMs: number, zone: string): number {
  const f = localFields(instantMs, zone);
  return resolveLocal(Date.UTC(f.year, f.month - 1, f.day), zone);
}

/** `2026-03-29 03:00 CEST`-style text for messages: local time and offset. */
export function formatLocal(instantMs: number, zone: string): string {
  const f = localFields(instantMs, zone);
  const offsetMin = Math.round(offsetAt(instantMs, zone) / 60_000);
  const sign = offsetMin < 0 ? '-' : '+';
  const abs = Math.abs(offsetMin);
  const pad = (n: number): string => String(n).padStart(2, '0');
  return `${f.year}-${pad(f.month)}-${pad(f.day)} ${pad(f.hour)}:${pad(f.minute)}${f.second ? `:${pad(f.second)}` : ''} ${zone} (UTC${sign}${pad(Math.floor(abs / 60))}:${pad(abs % 60)})`;
}
