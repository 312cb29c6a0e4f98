/**
 * What /proc says about a running process: its resident set now and at its peak. The idle case
 * reads a daemon this way: it runs on after what is measured, so GNU time (measure.ts), which
 * reports when the process exits, cannot give it.
 */
import { readFileSync } from 'node:fs';

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
