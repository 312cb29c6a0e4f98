/** Option values that several verbs share: times, durations, run statuses and plain strings. */
import { parseDuration } from '../../shared/config/duration.js';
import { EtlError } from '../../shared/errors.js';
import { RUN_STATUSES, type RunStatus } from '../../shared/types.js';
import type { OptionValues } from './args.js';

export function textOption(values: OptionValues, name: string): string | undefined {
  const value = values[name];
  return typeof value === 'string' ? value : undefined;
}

/**
 * `--table T` of a multi-table pipeline, as the protocol's `table` param (nothing when not given;
 * the daemon resolves the name, and says which tables there are when it is not one of them).
 */
export function tableParam(values: OptionValues): { table?: string } {
  const table = textOption(values, 'table');
  if (table === undefined) return {};
  if (table.trim() === '') throw new EtlError('USAGE', '--table expects a table name, e.g. public.orders');
  return { table };
}

/** `--since 2h` / `--since 2026-03-04T10:00:00Z` → an ISO time (undefined when not given). */
export function sinceOption(values: OptionValues, now: Date): string | undefined {
  const text = textOption(values, 'since');
  if (text === undefined) return undefined;
  const ms = parseDuration(text);
  if (ms !== undefined) return new Date(now.getTime() - ms).toISOString();
  const date = new Date(text);
  if (/^\d{4}-\d{2}-\d{2}/.test(text) && !Number.isNaN(date.getTime())) return date.toISOString();
  throw new EtlError('USAGE', `--since expects a duration (30m, 2h, 1d) or an ISO time, got "${text}"`);
}

/** `--timeout 10m` → milliseconds (null when not given). */
export function timeoutOption(values: OptionValues): number | null {
  const text = textOption(values, 'timeout');
  if (text === undefined) return null;
  const ms = parseDuration(text);
  if (ms === undefined || ms <= 0)
    throw new EtlError('USAGE', `--timeout expects a duration such as 90s, 10m or 1h, got "${text}"`);
  return ms;
}

/** `--status failed,cancelled` (and `--failed`) → the statuses wanted (undefined: any). */
export function statusOption(values: OptionValues): RunStatus[] | undefined {
  const wanted = new Set<RunStatus>();
  if (values.failed === true) wanted.add('failed');
  for (const part of (textOption(values, 'status') ?? '').split(',')) {
    const status = part.trim();
    if (status === '') continue;
    const known = RUN_STATUSES.find((s) => s === status);
    if (known === undefined)
      throw new EtlError('USAGE', `--status expects ${RUN_STATUSES.join(', ')}; got "${status}"`);
    wanted.add(known);
  }
  return wanted.size === 0 ? undefined : [...wanted];
}
