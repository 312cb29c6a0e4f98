/**
 * What /proc says about a running process: its resident set now and at its peak, and the CPU it
 * has used. The idle case and the fleet case read a daemon this way: it runs on after what is
 * measured, so GNU time (measure.ts), which reports when the process exits, cannot give these.
 */
import { readFileSync } from 'node:fs';
import { TICKS_PER_SECOND } from './threads.js';

/** VmRSS and VmHWM (the peak since the process started) in MB, or undefined once it is gone. */
export function memory(pid: number): { rss: number; hwm: number } | undefined {
  let status: string;
  try {
    status = readFileSync(`/proc/${pid}/status`, 'utf8');
  } catch {
    return undefined;
  }
  const kb = (key: string): number => Number(new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(status)?.[1]);
  return { rss: kb('VmRSS') / 1024, hwm: kb('VmHWM') / 1024 };
}

/**
 * User + system CPU seconds of a process (all its threads) and of its children it has waited for,
 * as GNU time counts them; undefined once it is gone.
 */
export function cpuSeconds(pid: number): number | undefined {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
  // comm may hold spaces or parentheses: the fields start after the last ")".
  const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
  // fields[0] is stat field 3 (state): utime is field 14, stime 15, cutime 16, cstime 17.
  const ticks = [11, 12, 13, 14].reduce((sum, i) => sum + Number(fields[i]), 0);
  return ticks / TICKS_PER_SECOND;
}
