/**
 * Host CPU and memory figures for the resource monitor, read straight from the kernel's counters
 * (what systeminformation did for us, without its ~12 MB of resident code or the shell it spawned
 * on every sample to read /proc/stat).
 *
 * - CPU: the busy share of all cores since the previous reading, from `os.cpus()` tick counters
 *   (user + nice + sys + irq over the same plus idle). The first reading covers the time since boot.
 * - Memory: used = total − MemAvailable from /proc/meminfo, so page cache the kernel can drop does
 *   not count as used. Where /proc is absent (macOS, a restricted sandbox) `os.freemem()` stands in.
 */
import { readFile } from 'node:fs/promises';
import { cpus, freemem, totalmem, type CpuInfo } from 'node:os';

interface CpuTicks {
  readonly busy: number;
  readonly total: number;
}

function ticksOf(cores: readonly CpuInfo[]): CpuTicks {
  let busy = 0;
  let total = 0;
  for (const { times } of cores) {
    const used = times.user + times.nice + times.sys + times.irq;
    busy += used;
    total += used + times.idle;
  }
  return { busy, total };
}

/** Busy share of the CPUs between consecutive `read`s; one per monitor, so samples do not interfere. */
export class CpuUsage {
  #previous: CpuTicks = { busy: 0, total: 0 };
  readonly #read: () => readonly CpuInfo[];

  constructor(read: () => readonly CpuInfo[] = cpus) {
    this.#read = read;
  }

  /** Percent in [0, 100]: 0 when no tick passed since the last reading, null when the platform lists no CPUs. */
  percent(): number | null {
    const cores = this.#read();
    if (cores.length === 0) return null;
    const now = ticksOf(cores);
    const busy = now.busy - this.#previous.busy;
    const total = now.total - this.#previous.total;
    this.#previous = now;
    if (total <= 0) return 0;
    return Math.min(100, Math.max(0, (busy / total) * 100));
  }
}

export interface MemoryUsage {
  readonly totalBytes: number;
  readonly availableBytes: number;
}

/** `MemAvailable` in bytes from the text of /proc/meminfo, or null when the kernel does not report it. */
export function memAvailableOf(meminfo: string): number | null {
  const match = /^MemAvailable:\s+(\d+)\s*kB$/m.exec(meminfo);
  return match ? Number(match[1]) * 1024 : null;
}

export async function memoryUsage(meminfoPath = '/proc/meminfo'): Promise<MemoryUsage> {
  const totalBytes = totalmem();
  let available: number | null = null;
  try {
    available = memAvailableOf(await readFile(meminfoPath, 'utf8'));
  } catch {
    // No /proc: free memory is the closest figure the platform offers.
  }
  return { totalBytes, availableBytes: Math.min(totalBytes, available ?? freemem()) };
}
