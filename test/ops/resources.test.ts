import type { ErrorCode } from '../../shared/errors.js';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CpuInfo } from 'node:os';
import { CpuUsage, memAvailableOf, memoryUsage } from '../../daemon/resources/host-usage.js';
import { pipelineStats } from '../../daemon/resources/pipeline-stats.js';
import { lowDisks, ResourceMonitor } from '../../daemon/resources/resource-monitor.js';
import { openStateStore } from '../../daemon/state/sqlite-store.js';
import type { RunStatus } from '../../shared/types.js';
import type { Resources } from '../../shared/protocol.js';
import { waitFor } from '../helpers/process.js';

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'etld-resources-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('ResourceMonitor', () => {
  it('samples sane host, daemon and disk figures', async () => {
    const monitor = new ResourceMonitor({
      paths: [
        { label: 'state', path: dir },
        { label: 'lake', path: join(dir, 'lake', 'not-created-yet') },
      ],
      rssBytes: () => 123_456_789,
    });
    const first = await monitor.sample();
    // Keep the event loop busy for a moment so the lag histogram has something to report.
    const until = Date.now() + 60;
    while (Date.now() < until) {
      /* busy */
    }
    // The histogram records once its own timer gets a turn after the block; a sample taken before
    // that reports no lag (and starts a new histogram), so sample until one has it.
    const second = await waitFor(
      async () => {
        const sample = await monitor.sample();
        return sample.event_loop_lag_ms === null ? undefined : sample;
      },
      { intervalMs: 20, timeoutMs: 10_000, what: 'a sample with an event-loop lag' },
    );
    monitor.stop();

    for (const sample of [first, second]) {
      expect(sample.cpu_percent).not.toBeNull();
      expect(sample.cpu_percent!).toBeGreaterThanOrEqual(0);
      expect(sample.cpu_percent!).toBeLessThanOrEqual(100);
      expect(sample.load_avg).toHaveLength(3);
      expect(sample.mem_total_bytes).toBeGreaterThan(64 * 1024 * 1024);
      expect(sample.mem_used_bytes).toBeGreaterThan(0);
      expect(sample.mem_used_bytes).toBeLessThanOrEqual(sample.mem_total_bytes);
      expect(sample.rss_bytes).toBe(123_456_789);
      expect(sample.disks.map((d) => d.label)).toEqual(['state', 'lake']);
      for (const disk of sample.disks) {
        expect(disk.total_bytes).toBeGreaterThan(0);
        expect(disk.free_bytes).toBeGreaterThan(0);
        expect(disk.free_bytes).toBeLessThanOrEqual(disk.total_bytes);
      }
      // A path that does not exist yet reports the file system it will be created on.
      expect(sample.disks[1]!.path).toBe(join(dir, 'lake', 'not-created-yet'));
      expect(sample.disks[1]!.total_bytes).toBe(sample.disks[0]!.total_bytes);
    }
    expect(second.event_loop_lag_ms).not.toBeNull();
    expect(second.event_loop_lag_ms!).toBeGreaterThanOrEqual(0);
  });

  it('samples periodically until stopped, and reports a failing sample', async () => {
    const samples: Resources[] = [];
    const monitor = new ResourceMonitor({
      paths: [{ label: 'tmp', path: dir }],
      rssBytes: () => 1,
      intervalMs: 30,
    });
    monitor.start((s) => samples.push(s));
    await waitFor(() => (samples.length >= 3 ? true : undefined), { what: 'three samples' });
    monitor.stop();
    const count = samples.length;
    // An observation window, not a wait: five intervals in which no sample may come (nothing
    // signals that a stopped monitor stayed stopped).
    await new Promise((r) => setTimeout(r, 150));
    expect(samples.length).toBeLessThanOrEqual(count + 1);

    const file = join(dir, 'plain-file');
    writeFileSync(file, 'x');
    const errors: unknown[] = [];
    const broken = new ResourceMonitor({
      paths: [{ label: 'bad', path: join(file, 'below') }],
      rssBytes: () => 1,
      intervalMs: 30,
      onError: (e) => errors.push(e),
    });
    await expect(broken.sample()).rejects.toMatchObject({ code: 'ENOTDIR' });
    broken.start(() => undefined);
    await waitFor(() => (errors.length >= 1 ? true : undefined), { what: 'an error report' });
    broken.stop();
  });

  it('lowDisks applies the low_disk_percent rule', () => {
    const resources: Resources = {
      cpu_percent: 1,
      load_avg: [0, 0, 0],
      mem_total_bytes: 1,
      mem_used_bytes: 1,
      rss_bytes: 1,
      event_loop_lag_ms: null,
      disks: [
        { label: 'state', path: '/s', free_bytes: 4, total_bytes: 100 },
        { label: 'lake', path: '/l', free_bytes: 5, total_bytes: 100 },
        { label: 'weird', path: '/w', free_bytes: 0, total_bytes: 0 },
      ],
    };
    expect(lowDisks(resources, 5)).toEqual([
      { label: 'state', path: '/s', free_bytes: 4, total_bytes: 100, percentFree: 4 },
    ]);
  });
});

describe('host usage', () => {
  const core = (user: number, nice: number, sys: number, idle: number, irq: number): CpuInfo => ({
    model: 'test',
    speed: 1000,
    times: { user, nice, sys, idle, irq },
  });

  it('CPU: the busy share of all cores between readings, since boot on the first', () => {
    let reading: CpuInfo[] = [core(100, 0, 100, 800, 0), core(0, 0, 0, 1000, 0)];
    const usage = new CpuUsage(() => reading);
    expect(usage.percent()).toBeCloseTo(10);
    // Core 0 busy for 300 of 400 ms (user, nice, sys, irq all count), core 1 idle for 400 ms.
    reading = [core(200, 50, 230, 900, 20), core(0, 0, 0, 1400, 0)];
    expect(usage.percent()).toBeCloseTo(37.5);
    // No tick passed: nothing was busy.
    expect(usage.percent()).toBe(0);
    expect(new CpuUsage(() => []).percent()).toBeNull();
  });

  it('memory: MemAvailable from /proc/meminfo, free memory where there is no /proc', async () => {
    const meminfo = [
      'MemTotal:       24683880 kB',
      'MemFree:        14316400 kB',
      'MemAvailable:   19533112 kB',
      'Buffers:          312412 kB',
    ].join('\n');
    expect(memAvailableOf(meminfo)).toBe(19_533_112 * 1024);
    expect(memAvailableOf('MemTotal: 1000 kB\nMemFree: 10 kB\n')).toBeNull();

    const file = join(dir, 'meminfo');
    writeFileSync(file, 'MemTotal: 2048 kB\nMemAvailable:       1024 kB\n');
    const fromFile = await memoryUsage(file);
    expect(fromFile.availableBytes).toBe(1024 * 1024);
    expect(fromFile.totalBytes).toBeGreaterThan(fromFile.availableBytes);

    const missing = await memoryUsage(join(dir, 'no-proc', 'meminfo'));
    expect(missing.availableBytes).toBeGreaterThan(0);
    expect(missing.availableBytes).toBeLessThanOrEqual(missing.totalBytes);
  });
});

describe('pipelineStats', () => {
  it('computes runs, failures, success rates, mean duration and last error from the state store', () => {
    const now = Date.parse('2026-05-21T12:00:00.000Z');
    let clock = now;
    const store = openStateStore(join(dir, 'stats.db'), () => new Date(clock));
    const at = (hoursAgo: number): string => new Date(now - hoursAgo * 3_600_000).toISOString();
    const run = (
      sequence: number,
      attempt: number,
      status: RunStatus,
      startHoursAgo: number,
      seconds: number,
      error?: [ErrorCode, string],
    ): void => {
      clock = now - startHoursAgo * 3_600_000;
      const row = store.insertRun({
        pipeline: 'orders',
        sequence,
        attempt,
        trigger: 'schedule',
        kind: { kind: 'normal' },
        status: 'running',
      });
      const finished = status === 'running' ? null : new Date(clock + seconds * 1000).toISOString();
      store.updateRun(row.id, {
        status,
        startedAt: at(startHoursAgo),
        finishedAt: finished,
        ...(error ? { errorCode: error[0], errorMessage: error[1] } : {}),
      });
    };
    run(1, 1, 'succeeded', 240, 30); // 10 days ago: outside both windows
    run(2, 1, 'retrying', 48, 10, ['SOURCE_TIMEOUT', 'statement timeout']);
    run(2, 2, 'succeeded', 47, 60); // one successful run despite the failed attempt
    run(3, 1, 'failed', 72, 5, ['SOURCE_CONNECTION', 'connect ECONNREFUSED db1:1433']);
    run(4, 1, 'succeeded', 2, 120);
    run(5, 1, 'failed', 1, 5, ['DESTINATION_WRITE', 'disk full']);
    run(6, 1, 'cancelled', 0.5, 5);
    run(7, 1, 'running', 0.1, 0);

    expect(pipelineStats(store, 'orders', new Date(now))).toEqual({
      runs_24h: 2,
      failures_24h: 1,
      success_rate_24h: 0.5,
      runs_7d: 4,
      failures_7d: 2,
      success_rate_7d: 0.5,
      mean_duration_s: 90,
      last_error: { code: 'DESTINATION_WRITE', message: 'disk full' },
      last_success_at: new Date(now - 2 * 3_600_000 + 120_000).toISOString(),
    });
    expect(pipelineStats(store, 'billing', new Date(now))).toEqual({
      runs_24h: 0,
      failures_24h: 0,
      success_rate_24h: null,
      runs_7d: 0,
      failures_7d: 0,
      success_rate_7d: null,
      mean_duration_s: null,
      last_error: null,
      last_success_at: null,
    });
    store.close();
  });
});
