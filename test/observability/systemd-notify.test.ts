/**
 * Type=notify and WatchdogSec= against a fake NOTIFY_SOCKET: a Unix datagram listener standing in
 * for systemd. The daemon's lifecycle runs in-process with doubles for the supervisor and the
 * control socket, and the real Observability, SdNotifier and watchdog keep-alive.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { daemonSettingsSchema } from '../../shared/config/daemon-schema.js';
import type { PipelineSummary } from '../../shared/protocol.js';
import { PipelineLoader } from '../../daemon/config/pipeline-loader.js';
import { PipelineRegistry } from '../../daemon/config/pipeline-registry.js';
import { Daemon } from '../../daemon/daemon.js';
import { EventBus } from '../../daemon/events/event-bus.js';
import { FanoutLogger } from '../../daemon/logging/logger.js';
import { FreshnessMonitor } from '../../daemon/observability/freshness.js';
import { Observability } from '../../daemon/observability/observability.js';
import { isNotifySocket, SdNotifier } from '../../daemon/observability/sd-notify.js';
import { unixDatagramSender, type DatagramSender } from '../../daemon/observability/unix-datagram.js';
import { WatchdogKeepAlive, watchdogIntervalMs } from '../../daemon/observability/watchdog.js';
import type { DaemonPaths } from '../../shared/paths.js';
import type { SupervisorPort } from '../../daemon/ports.js';
import { openStateStore } from '../../daemon/state/sqlite-store.js';
import { FakeClock } from '../scheduler/fake-clock.js';
import { REPO_ROOT } from '../helpers/daemon-process.js';
import { waitFor, within } from '../helpers/wait.js';
import { listenDatagrams, startDatagramReceiver, type DatagramReceiver } from './datagram-listener.js';

const cleanups: (() => void | Promise<void>)[] = [];
afterEach(async () => {
  for (const step of cleanups.splice(0).reverse()) await step();
});

function summary(name: string, state: PipelineSummary['state']): PipelineSummary {
  return {
    name,
    state,
    paused: false,
    schedule: null,
    schedule_human: null,
    timezone: 'UTC',
    next_run_at: null,
    last_run: null,
    description: null,
    source: null,
    destination: null,
    mode: 'full',
    file: `/p/${name}.yaml`,
    problems: [],
    freshness: null,
  };
}

function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

describe('systemd notify protocol', () => {
  it('sends STATUS while starting, READY=1 only after the socket listens and reconciliation ends, STATUS updates, WATCHDOG=1 keep-alives and STOPPING=1 at drain, in that order', async () => {
    const receiver: DatagramReceiver = startDatagramReceiver();
    cleanups.push(() => receiver.close());
    const sender: DatagramSender = unixDatagramSender();
    cleanups.push(() => sender.close());
    const logger = new FanoutLogger([]);
    const notifier = new SdNotifier(receiver.path, sender, logger);
    const keepAlive = new WatchdogKeepAlive(notifier, watchdogIntervalMs({ WATCHDOG_USEC: '150000' }, 1)!);
    cleanups.push(() => keepAlive.stop());

    const events = new EventBus();
    let summaries = [summary('orders', 'idle'), summary('billing', 'idle')];
    const steps: string[] = [];
    const reconciled = deferred();
    const supervisor: SupervisorPort = {
      setPipelines: () => undefined,
      start: () => steps.push('supervisor.start'),
      trigger: () => ({ runId: 'x' }),
      stop: () => ({ runId: null, stopped: false }),
      pause: () => undefined,
      resume: () => undefined,
      why: () => ({ next_run_at: null, lines: [] }),
      summaries: () => summaries,
      currentRun: () => null,
      isBusy: () => false,
      hold: () => () => undefined,
      drain: () => {
        steps.push('drain');
        return Promise.resolve();
      },
    };
    const store = openStateStore(':memory:');
    cleanups.push(() => store.close());
    const observability = new Observability({
      notifier,
      freshness: new FreshnessMonitor({
        clock: new FakeClock('2026-05-21T10:00:00Z'),
        store,
        alerts: { notifyStale: () => undefined, notifyFresh: () => undefined },
        logger,
      }),
      events,
      summaries: () => summaries,
      pingStore: () => store.ping(),
    });
    const daemon = new Daemon(
      {
        paths: { socketPath: '/run/etld/etld.sock' } as DaemonPaths,
        settings: daemonSettingsSchema.parse({}),
        logger,
        registry: new PipelineRegistry(),
        loader: new PipelineLoader({
          pipelinesDir: '/nonexistent/pipelines',
          record: store,
          secrets: { env: {} },
          defaultTimezone: 'UTC',
          now: () => new Date(),
        }),
        supervisor,
        control: {
          start: () => {
            steps.push('control.start');
            return Promise.resolve();
          },
          close: () => Promise.resolve(),
        },
        resources: null,
        reconcile: () => {
          steps.push('reconcile');
          return reconciled.promise;
        },
        release: () => Promise.resolve(),
        observability,
      },
      new Date(),
    );

    keepAlive.start();
    const starting = daemon.start();
    await receiver.waitFor((t) => t.startsWith('STATUS=starting'), 'the starting STATUS');
    // Reconciliation is still running: keep-alives flow, READY does not.
    await receiver.waitFor((t) => t === 'WATCHDOG=1', 'keep-alives during start-up', 3);
    expect(steps).toEqual(['control.start', 'reconcile']);
    expect(receiver.texts().some((t) => t.includes('READY=1'))).toBe(false);
    expect(observability.readiness()).toEqual({ ready: false, reason: 'starting' });

    reconciled.resolve();
    await starting;
    const [ready] = await receiver.waitFor((t) => t.includes('READY=1'), 'READY=1');
    expect(ready).toBe('READY=1\nSTATUS=2 pipelines; 0 runs active');
    expect(steps).toEqual(['control.start', 'reconcile', 'supervisor.start']);
    expect(observability.readiness()).toEqual({ ready: true });

    summaries = [summary('orders', 'running'), summary('billing', 'retrying')];
    events.emit('pipelines.changed', { pipelines: summaries });
    await receiver.waitFor(
      (t) => t === 'STATUS=2 pipelines; 1 run active, 1 waiting to retry',
      'the STATUS update',
    );

    await daemon.stop(1000);
    const [stopping] = await receiver.waitFor((t) => t.startsWith('STOPPING=1'), 'STOPPING=1');
    expect(stopping).toBe('STOPPING=1\nSTATUS=draining: 1 run active, 1 waiting to retry');
    expect(observability.readiness()).toEqual({ ready: false, reason: 'stopped' });

    // The order as systemd saw it (keep-alives interleaved, left out here).
    const order = receiver
      .texts()
      .filter((t) => t !== 'WATCHDOG=1')
      .map((t) => t.split('\n')[0]!.replace(/=.*/, ''));
    expect(order).toEqual(['STATUS', 'READY', 'STATUS', 'STOPPING']);
    const firstReady = receiver.texts().findIndex((t) => t.startsWith('READY=1'));
    expect(receiver.texts().slice(0, firstReady)).toContain('WATCHDOG=1');
    expect(receiver.texts().slice(firstReady)).toContain('WATCHDOG=1');
  });

  it('takes only absolute or abstract NOTIFY_SOCKET addresses and reaches an abstract one', async () => {
    expect(isNotifySocket('/run/systemd/notify')).toBe(true);
    expect(isNotifySocket('@/org/freedesktop/systemd1/notify/123')).toBe(true);
    expect(isNotifySocket('relative/notify')).toBe(false);
    expect(isNotifySocket('@')).toBe(false);
    expect(isNotifySocket(undefined)).toBe(false);

    const got: string[] = [];
    const name = `@etld-test-notify-${process.pid}`;
    const listener = listenDatagrams(name, (payload) => got.push(payload.toString()));
    cleanups.push(() => listener.close());
    const sender = unixDatagramSender();
    cleanups.push(() => sender.close());
    new SdNotifier(name, sender, new FanoutLogger([])).watchdog();
    await waitFor(() => (got.length > 0 ? got : undefined), {
      timeoutMs: 5_000,
      what: 'the abstract datagram',
    });
    expect(got).toEqual(['WATCHDOG=1']);
  });

  it('reports an unreachable notify socket once, not on every keep-alive', async () => {
    const lines: string[] = [];
    const sender = unixDatagramSender();
    cleanups.push(() => sender.close());
    // Every send's outcome, so the test knows when all five failures have been handled.
    const sends: Promise<void>[] = [];
    const notifier = new SdNotifier(
      '/nonexistent/etld/notify',
      {
        send: (path, payload) => {
          const sent = sender.send(path, payload);
          sends.push(sent);
          return sent;
        },
        close: () => sender.close(),
      },
      new FanoutLogger([{ write: (r) => lines.push(r.message) }]),
    );
    for (let i = 0; i < 5; i++) notifier.watchdog();
    // The notifier reacts to each send before this does (its handlers were attached first).
    await within(Promise.allSettled(sends), 'the five sends to fail', 5_000);
    expect(sends).toHaveLength(5);
    expect(lines).toEqual([
      expect.stringMatching(/^cannot notify systemd through \/nonexistent\/etld\/notify: /),
    ]);
  });
});

describe('watchdog', () => {
  it('derives the keep-alive interval from WATCHDOG_USEC, for this process only', () => {
    expect(watchdogIntervalMs({ WATCHDOG_USEC: '30000000' }, 42)).toBe(10_000);
    expect(watchdogIntervalMs({ WATCHDOG_USEC: '30000000', WATCHDOG_PID: '42' }, 42)).toBe(10_000);
    expect(watchdogIntervalMs({ WATCHDOG_USEC: '30000000', WATCHDOG_PID: '41' }, 42)).toBeNull();
    expect(watchdogIntervalMs({}, 42)).toBeNull();
    expect(watchdogIntervalMs({ WATCHDOG_USEC: 'soon' }, 42)).toBeNull();
  });

  it('a blocked event loop stops the keep-alives for longer than WatchdogSec, so systemd would restart the daemon', async () => {
    // systemd's side runs in another process, so it keeps its own clock while this one is blocked.
    const dir = mkdtempSync(join(tmpdir(), 'etld-watchdog-'));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    const path = join(dir, 'notify.sock');
    const script = `
      import { DgramSocket } from 'node-unix-socket';
      const socket = new DgramSocket();
      socket.on('data', (buf) => process.stdout.write(Date.now() + ' ' + buf.toString() + '\\n'));
      socket.bind(process.argv[1]);
      process.stdout.write('listening\\n');
      process.stdin.on('end', () => { socket.close(); process.exit(0); });
      process.stdin.resume();
    `;
    const child: ChildProcess = spawn(process.execPath, ['--input-type=module', '-e', script, path], {
      cwd: REPO_ROOT,
      stdio: ['pipe', 'pipe', 'inherit'],
    });
    let out = '';
    child.stdout?.on('data', (chunk: Buffer) => (out += chunk.toString()));
    cleanups.push(() => {
      child.stdin?.end();
    });
    await waitFor(() => (out.includes('listening') ? true : undefined), {
      timeoutMs: 10_000,
      what: 'the listener',
    });

    const watchdogUsec = 1_000_000; // WatchdogSec=1s: keep-alives every 333 ms
    const sender = unixDatagramSender();
    cleanups.push(() => sender.close());
    const keepAlive = new WatchdogKeepAlive(
      new SdNotifier(path, sender, new FanoutLogger([])),
      watchdogIntervalMs({ WATCHDOG_USEC: String(watchdogUsec) }, 1)!,
    );
    const pings = (): number[] =>
      out
        .split('\n')
        .filter((l) => l.endsWith(' WATCHDOG=1'))
        .map((l) => Number(l.split(' ')[0]));
    keepAlive.start();
    cleanups.push(() => keepAlive.stop());
    await waitFor(() => (pings().length >= 4 ? true : undefined), { timeoutMs: 10_000, what: 'keep-alives' });

    const blockedFrom = Date.now();
    while (Date.now() - blockedFrom < 2500) {
      // a hung event loop: no timer can run
    }
    const blockedTo = Date.now();
    await waitFor(() => (pings().filter((t) => t > blockedTo).length >= 3 ? true : undefined), {
      timeoutMs: 10_000,
      what: 'keep-alives after the block',
    });
    keepAlive.stop();

    const times = pings();
    const gaps = times.slice(1).map((t, i) => ({ from: times[i]!, gap: t - times[i]! }));
    const before = gaps.filter((g) => g.from + g.gap < blockedFrom);
    const longest = gaps.reduce((a, b) => (b.gap > a.gap ? b : a));
    // While the loop ran, every keep-alive came well inside WatchdogSec…
    expect(Math.max(...before.map((g) => g.gap))).toBeLessThan(watchdogUsec / 1000);
    // …and the blocked loop left a silence longer than WatchdogSec, exactly across the block.
    expect(longest.gap).toBeGreaterThan(watchdogUsec / 1000);
    expect(longest.gap).toBeGreaterThanOrEqual(2400);
    expect(longest.from).toBeLessThanOrEqual(blockedFrom + 50);
  });
});
