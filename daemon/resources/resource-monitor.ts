/**
 * Host and daemon resources for `info`, the console header and low-disk alerts:
 * CPU (the busy share since the previous sample) and memory (used = total - available, so page
 * cache does not count as used) from host-usage.ts, load average, free space of the state / lake /
 * log paths, daemon RSS and event-loop lag.
 *
 * Disk space comes from statfs(2) on each path rather than from a listing of mount points (`df`)
 * that would then have to be matched to our paths; statfs answers for the file system that holds
 * the path itself, with the space available to an unprivileged user (f_bavail), which is what the
 * daemon's user can actually write.
 */
import { statfs } from 'node:fs/promises';
import { loadavg } from 'node:os';
import { dirname, resolve } from 'node:path';
import { monitorEventLoopDelay, type ELDHistogram } from 'node:perf_hooks';
import type { Resources } from '../../shared/protocol.js';
import { CpuUsage, memoryUsage } from './host-usage.js';

export interface MonitoredPath {
  readonly label: string;
  readonly path: string;
}

export interface ResourceMonitorOptions {
  readonly paths: readonly MonitoredPath[];
  /** The daemon's resident set size (main passes `process.memoryUsage.rss`). */
  readonly rssBytes: () => number;
  /** Period of `start`'s samples. Default 5 s. */
  readonly intervalMs?: number;
  /** A sample that failed (the periodic loop keeps going). */
  readonly onError?: (error: unknown) => void;
}

export type Disk = Resources['disks'][number];

/** Disks whose free space is below `percent` of their size (the `alerts.low_disk_percent` rule). */
export function lowDisks(resources: Resources, percent: number): (Disk & { readonly percentFree: number })[] {
  return resources.disks
    .filter((d) => d.total_bytes > 0)
    .map((d) => ({ ...d, percentFree: (d.free_bytes / d.total_bytes) * 100 }))
    .filter((d) => d.percentFree < percent);
}

/** statfs of the path or, when it does not exist yet, of its nearest existing parent. */
async function diskOf(target: MonitoredPath): Promise<Disk> {
  let path = resolve(target.path);
  for (;;) {
    try {
      const stat = await statfs(path);
      return {
        label: target.label,
        path: target.path,
        free_bytes: stat.bavail * stat.bsize,
        total_bytes: stat.blocks * stat.bsize,
      };
    } catch (error) {
      const parent = dirname(path);
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT' || parent === path) throw error;
      path = parent;
    }
  }
}

export class ResourceMonitor {
  readonly #options: ResourceMonitorOptions;
  readonly #intervalMs: number;
  readonly #cpu = new CpuUsage();
  #lag: ELDHistogram | null = null;
  #timer: NodeJS.Timeout | null = null;
  #running = false;

  constructor(options: ResourceMonitorOptions) {
    this.#options = options;
    this.#intervalMs = options.intervalMs ?? 5_000;
  }

  /** One sample now. Event-loop lag is the p99 delay since the previous sample (null on the first). */
  async sample(): Promise<Resources> {
    const lag = this.#lagHistogram();
    const cpuPercent = this.#cpu.percent();
    const [memory, disks] = await Promise.all([memoryUsage(), Promise.all(this.#options.paths.map(diskOf))]);
    let lagMs: number | null = null;
    if (lag.count > 0) lagMs = lag.percentile(99) / 1e6;
    lag.reset();
    return {
      cpu_percent: cpuPercent,
      load_avg: loadavg(),
      mem_total_bytes: memory.totalBytes,
      mem_used_bytes: memory.totalBytes - memory.availableBytes,
      rss_bytes: this.#options.rssBytes(),
      event_loop_lag_ms: lagMs,
      disks,
    };
  }

  /** Samples every interval (the first one immediately) until `stop`. */
  start(onSample: (resources: Resources) => void): void {
    if (this.#running) return;
    this.#running = true;
    this.#lagHistogram();
    const tick = (): void => {
      void this.sample()
        .then((resources) => {
          if (this.#running) onSample(resources);
        })
        .catch((error: unknown) => this.#options.onError?.(error))
        .finally(() => {
          if (!this.#running) return;
          this.#timer = setTimeout(tick, this.#intervalMs);
          this.#timer.unref();
        });
    };
    tick();
  }

  stop(): void {
    this.#running = false;
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = null;
    this.#lag?.disable();
    this.#lag = null;
  }

  #lagHistogram(): ELDHistogram {
    if (!this.#lag) {
      this.#lag = monitorEventLoopDelay({ resolution: 20 });
      this.#lag.enable();
    }
    return this.#lag;
  }
}
