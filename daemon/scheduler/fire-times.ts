/**
 * When a schedule fires next, computed from the schedule alone so the supervisor can show it
 * (`list`, `status`, `why`), count fires missed while the daemon was down, and arm one timer on its
 * own Clock. node-cron parses and validates the expression (shared/config/schedule.ts uses the same
 * parser); its `createTask(expr, fn, {timezone})` is not used because it owns real timers, which
 * neither a fake clock in tests nor the misfire arithmetic at start-up can drive.
 *
 * Semantics, documented for operators:
 * - Cron fields follow crontab(5): when both day-of-month and day-of-week are restricted (neither
 *   starts with `*` or `?`) a day matches if EITHER matches; otherwise both must match. node-cron's
 *   extensions (`L`, `LW`, `15W`, `L-3`, `5L`, `1#2`) are honoured.
 * - Local times are in the pipeline's IANA zone. Across DST each local time fires once: a time in
 *   the spring-forward gap fires at the first instant after the jump (02:30 on the night Warsaw
 *   skips 02:00-03:00 fires at 03:00 CEST), and a time the fall-back repeats fires at its first
 *   occurrence only (see zoned-time.ts `resolveLocal`).
 * - `every <d>` fires at local midnight + k·d (elapsed time), re-anchored at each local midnight.
 * - `at <local date-time>` fires once; after that there is no next fire.
 */
import nodeCron from 'node-cron';
import type { Schedule } from '../../shared/config/schedule.js';
import { localFields, offsetAt, resolveLocal, startOfLocalDay, wallMs } from './zoned-time.js';

type DayToken = number | string;

interface CompiledCron {
  readonly seconds: readonly number[];
  readonly minutes: readonly number[];
  readonly hours: readonly number[];
  readonly months: ReadonlySet<number>;
  readonly daysOfMonth: readonly DayToken[];
  readonly daysOfWeek: readonly DayToken[];
  /** crontab(5): both day fields restricted → a day matches when either matches. */
  readonly eitherDay: boolean;
}

const compiled = new Map<string, CompiledCron>();

function compile(expression: string): CompiledCron {
  const cached = compiled.get(expression);
  if (cached) return cached;
  const fields = nodeCron.parse(expression);
  const raw = expression.trim().split(/\s+/);
  const offset = raw.length === 6 ? 1 : 0;
  const restricted = (text: string | undefined): boolean =>
    text !== undefined && !text.startsWith('*') && !text.startsWith('?');
  const ascending = (values: readonly number[]): number[] => [...new Set(values)].sort((a, b) => a - b);
  const result: CompiledCron = {
    seconds: ascending(fields.second),
    minutes: ascending(fields.minute),
    hours: ascending(fields.hour),
    months: new Set(fields.month),
    daysOfMonth: fields.dayOfMonth,
    daysOfWeek: fields.dayOfWeek,
    eitherDay: restricted(raw[offset + 2]) && restricted(raw[offset + 4]),
  };
  compiled.set(expression, result);
  return result;
}

function daysInMonth(year: number, month: number): number {
  return new Date(Date.UTC(year, month, 0)).getUTCDate();
}

function weekday(year: number, month: number, day: number): number {
  return new Date(Date.UTC(year, month - 1, day)).getUTCDay();
}

/** Quartz's `W`: the weekday nearest to `target` without leaving the month. */
function nearestWeekday(year: number, month: number, target: number): number {
  const last = daysInMonth(year, month);
  const day = Math.min(target, last);
  const dow = weekday(year, month, day);
  if (dow === 6) return day === 1 ? 3 : day - 1;
  if (dow === 0) return day === last ? day - 2 : day + 1;
  return day;
}

function matchesDayOfMonth(tokens: readonly DayToken[], year: number, month: number, day: number): boolean {
  const last = daysInMonth(year, month);
  for (const token of tokens) {
    if (token === day) return true;
    if (typeof token !== 'string') continue;
    if (token === 'L' && day === last) return true;
    const w = /^(\d{1,2}|L)W$/i.exec(token);
    if (w && nearestWeekday(year, month, w[1] === 'L' ? last : Number(w[1])) === day) return true;
    const back = /^L-(\d{1,2})$/i.exec(token);
    if (back && last - Number(back[1]) === day) return true;
  }
  return false;
}

function matchesDayOfWeek(tokens: readonly DayToken[], year: number, month: number, day: number): boolean {
  const dow = weekday(year, month, day);
  for (const token of tokens) {
    if (token === dow || (token === 7 && dow === 0)) return true;
    if (typeof token !== 'string') continue;
    const nth = /^([0-7])#([1-5])$/.exec(token);
    if (nth && Number(nth[1]) % 7 === dow && Math.floor((day - 1) / 7) + 1 === Number(nth[2])) return true;
    const lastOf = /^([0-7])L$/i.exec(token);
    if (lastOf && Number(lastOf[1]) % 7 === dow && day + 7 > daysInMonth(year, month)) return true;
  }
  return false;
}

function dayMatches(cron: CompiledCron, year: number, month: number, day: number): boolean {
  if (!cron.months.has(month)) return false;
  const dom = matchesDayOfMonth(cron.daysOfMonth, year, month, day);
  const dow = matchesDayOfWeek(cron.daysOfWeek, year, month, day);
  return cron.eitherDay ? dom || dow : dom && dow;
}

const HOUR_MS = 3_600_000;
const DAY_MS = 86_400_000;
/** node-cron rejects impossible dates, so a match exists within a leap cycle plus a century skip. */
const SEARCH_DAYS = 366 * 12;

function nextCron(expression: string, zone: string, afterMs: number): number | null {
  const cron = compile(expression);
  // Near a DST change, local times up to the size of the jump before `after` can still resolve
  // to instants after it (the repeated hour), so the search starts that much earlier.
  const here = offsetAt(afterMs, zone);
  const shift = Math.max(
    Math.abs(here - offsetAt(afterMs - DAY_MS, zone)),
    Math.abs(here - offsetAt(afterMs + DAY_MS, zone)),
  );
  const from = wallMs(localFields(afterMs, zone)) - shift;
  const start = new Date(from);
  for (let i = 0; i < SEARCH_DAYS; i++) {
    const date = new Date(Date.UTC(start.getUTCFullYear(), start.getUTCMonth(), start.getUTCDate() + i));
    const year = date.getUTCFullYear();
    const month = date.getUTCMonth() + 1;
    const day = date.getUTCDate();
    if (!dayMatches(cron, year, month, day)) continue;
    const dayWall = date.getTime();
    for (const hour of cron.hours) {
      const hourWall = dayWall + hour * HOUR_MS;
      if (hourWall + HOUR_MS <= from) continue;
      for (const minute of cron.minutes) {
        const minuteWall = hourWall + minute * 60_000;
        if (minuteWall + 60_000 <= from) continue;
        for (const second of cron.seconds) {
          const wall = minuteWall + second * 1000;
          if (wall < from) continue;
          const instant = resolveLocal(wall, zone);
          if (instant > afterMs) return instant;
        }
      }
    }
  }
  return null;
}

function nextEvery(intervalMs: number, zone: string, afterMs: number): number {
  const midnight = startOfLocalDay(afterMs, zone);
  const f = localFields(midnight, zone);
  const nextMidnight = resolveLocal(Date.UTC(f.year, f.month - 1, f.day + 1), zone);
  const candidate = midnight + (Math.floor((afterMs - midnight) / intervalMs) + 1) * intervalMs;
  return candidate < nextMidnight ? candidate : nextMidnight;
}

function atInstant(localDateTime: string, zone: string): number {
  return resolveLocal(Date.parse(`${localDateTime}Z`), zone);
}

/** The first fire time strictly after `after`, or null (manual, a one-shot already past, no match). */
export function nextFireTime(schedule: Schedule, zone: string, after: Date): Date | null {
  const afterMs = after.getTime();
  switch (schedule.kind) {
    case 'manual':
      return null;
    case 'cron': {
      const next = nextCron(schedule.expression, zone, afterMs);
      return next === null ? null : new Date(next);
    }
    case 'every':
      return new Date(nextEvery(schedule.intervalMs, zone, afterMs));
    case 'at': {
      const at = atInstant(schedule.localDateTime, zone);
      return at > afterMs ? new Date(at) : null;
    }
  }
}

/** Fire times in (after, until], at most `limit` of them (misfire accounting after downtime). */
export function fireTimesBetween(
  schedule: Schedule,
  zone: string,
  after: Date,
  until: Date,
  limit: number,
): Date[] {
  const times: Date[] = [];
  let cursor = after;
  while (times.length < limit) {
    const next = nextFireTime(schedule, zone, cursor);
    if (next === null || next.getTime() > until.getTime()) break;
    times.push(next);
    cursor = next;
  }
  return times;
}
