import nodeCron from 'node-cron';
import { parseDuration } from './duration.js';

/**
 * A pipeline's schedule, parsed. Presets are expanded to cron; `every 15m` is a fixed interval
 * anchored at midnight of the pipeline's timezone; `at …` is a one-shot date trigger.
 */
export type Schedule =
  | { readonly kind: 'manual' }
  | { readonly kind: 'cron'; readonly expression: string; readonly text: string }
  | { readonly kind: 'every'; readonly intervalMs: number; readonly text: string }
  | { readonly kind: 'at'; readonly localDateTime: string; readonly text: string };

const PRESETS: Record<string, string> = {
  '@hourly': '0 * * * *',
  '@daily': '0 0 * * *',
  '@midnight': '0 0 * * *',
  '@weekly': '0 0 * * 0',
  '@monthly': '0 0 1 * *',
  '@yearly': '0 0 1 1 *',
  '@annually': '0 0 1 1 *',
};

const AT_RE = /^at\s+(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2})?)$/;
const EVERY_RE = /^every\s+(.+)$/;

export type ScheduleParse = { ok: true; schedule: Schedule } | { ok: false; reason: string };

export function parseSchedule(text: string | undefined | null): ScheduleParse {
  if (text === undefined || text === null || text.trim() === '' || text.trim() === 'manual') {
    return { ok: true, schedule: { kind: 'manual' } };
  }
  const trimmed = text.trim();
  const preset = PRESETS[trimmed.toLowerCase()];
  if (preset !== undefined)
    return { ok: true, schedule: { kind: 'cron', expression: preset, text: trimmed } };

  const every = EVERY_RE.exec(trimmed);
  if (every) {
    const ms = parseDuration(every[1] ?? '');
    if (ms === undefined || ms < 1000) {
      return { ok: false, reason: `expected "every <duration>" such as "every 15m", got "${trimmed}"` };
    }
    return { ok: true, schedule: { kind: 'every', intervalMs: ms, text: trimmed } };
  }

  const at = AT_RE.exec(trimmed);
  if (at) {
    const local = at[1] ?? '';
    if (Number.isNaN(Date.parse(`${local}Z`)))
      return { ok: false, reason: `"${local}" is not a valid date and time` };
    return {
      ok: true,
      schedule: { kind: 'at', localDateTime: local.length === 16 ? `${local}:00` : local, text: trimmed },
    };
  }
  if (trimmed.startsWith('at ')) {
    return { ok: false, reason: `expected "at YYYY-MM-DDTHH:MM", got "${trimmed}"` };
  }

  const fields = trimmed.split(/\s+/);
  if (fields.length !== 5 && fields.length !== 6) {
    return {
      ok: false,
      reason: `expected a 5- or 6-field cron expression, @hourly/@daily/@weekly/@monthly, "every 15m" or "at 2026-12-01T02:00", got "${trimmed}"`,
    };
  }
  const detailed = nodeCron.validateDetailed(trimmed);
  if (!detailed.valid) {
    const first = detailed.errors[0];
    const detail = first ? `${first.field}: ${first.message}` : 'invalid cron expression';
    return { ok: false, reason: `invalid cron expression "${trimmed}" (${detail})` };
  }
  return { ok: true, schedule: { kind: 'cron', expression: trimmed, text: trimmed } };
}

export function isValidTimeZone(zone: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}
