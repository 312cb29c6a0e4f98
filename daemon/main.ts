#!/usr/bin/env -S node --max-semi-space-size=1
/**
 * etld's entry point: the only daemon file that touches `process` — arguments, environment,
 * signals, exit codes, stdout. Everything else is composed in `compose.ts`.
 *
 * The launcher line gives V8 a young generation of 1 MiB per semi-space instead of 16-32 MiB, as
 * the systemd unit's NODE_OPTIONS does: a run streaming at full speed otherwise grows it to its
 * maximum, about 55 MB of RSS, for no measurable speed (`npm run bench`). `env -S` splits the line
 * (GNU coreutils 8.30+, BSD and macOS env).
 */
import { fstatSync } from 'node:fs';
import { hostname } from 'node:os';
import { tmpdir } from 'node:os';
import { collectDefaultMetrics } from 'prom-client';
import { ETLD_VERSION } from '../shared/version.js';
import { EtlError, toEtlError } from '../shared/errors.js';
import { composeDaemon, type ComposedDaemon } from './compose.js';
import type { FailpointName } from './engine/engine.js';
import { loadDaemonSettings } from '../shared/config/settings-loader.js';
import type { SecretEnvironment } from './config/secrets.js';
import { checkConfig } from './check-config.js';
import { DAEMON_HELP, parseDaemonArgs } from './host/daemon-args.js';
import { JournalSink } from './logging/journal-sink.js';
import { JournaldSink, stdoutIsJournal } from './logging/journald-sink.js';
import { FanoutLogger, type LogSink } from './logging/logger.js';
import { dropMisnamedDefaultMetrics } from './observability/metrics.js';
import { isNotifySocket, noNotifier, SdNotifier, type ServiceNotifier } from './observability/sd-notify.js';
import { unixDatagramSender } from './observability/unix-datagram.js';
import { WatchdogKeepAlive, watchdogIntervalMs } from './observability/watchdog.js';
import { PipelineFileSink } from './logging/pipeline-file-sink.js';
import { pathsWithSettings, resolvePaths } from '../shared/paths.js';

/** Exit codes: 78 (EX_CONFIG) tells systemd not to restart a daemon whose configuration is wrong. */
const EXIT_FATAL = 1;
const EXIT_USAGE = 2;
const EXIT_CONFIG = 78;

function exitCodeFor(error: EtlError): number {
  switch (error.code) {
    case 'USAGE':
      return EXIT_USAGE;
    case 'CONFIG_INVALID':
    case 'CONFIG_NOT_FOUND':
    case 'SECRET_UNAVAILABLE':
    case 'STATE_STORE':
    case 'STATE_STORE_NEWER':
      return EXIT_CONFIG;
    default:
      return EXIT_FATAL;
  }
}

const FAILPOINTS: readonly FailpointName[] = [
  'after-quarantine-commit',
  'before-destination-commit',
  'after-destination-commit',
  'after-state-commit',
];

/** What an armed failpoint does: SIGKILL (a crash) or SIGSTOP (a paused VM, woken by the harness). */
type FailpointAction = 'kill' | 'pause';

/**
 * `ETLD_FAILPOINTS=after-destination-commit=kill[,…]`: the chaos harness's way to stop etld at an
 * exact point of a commit (`=pause` stops the process there instead of killing it). Unset in
 * production; when set, start-up says so at warning level.
 */
function parseFailpoints(spec: string | undefined): Map<FailpointName, FailpointAction> {
  const armed = new Map<FailpointName, FailpointAction>();
  for (const entry of (spec ?? '')
    .split(',')
    .map((e) => e.trim())
    .filter((e) => e.length > 0)) {
    const [name, action] = entry.split('=');
    const point = FAILPOINTS.find((f) => f === name);
    if (point === undefined || (action !== 'kill' && action !== 'pause')) {
      throw new EtlError(
        'USAGE',
        `ETLD_FAILPOINTS: "${entry}" is not NAME=kill or NAME=pause with NAME one of ${FAILPOINTS.join(', ')}`,
      );
    }
    armed.set(point, action);
  }
  return armed;
}

function stdoutStat(): { dev: number; ino: number } | null {
  try {
    return fstatSync(1);
  } catch {
    return null;
  }
}

/** The daemon's secrets: its environment, and systemd's credentials directory for relative password files. */
function secretEnvironment(): SecretEnvironment {
  return {
    env: process.env,
    ...(process.env.CREDENTIALS_DIRECTORY ? { credentialsDirectory: process.env.CREDENTIALS_DIRECTORY } : {}),
  };
}

async function main(): Promise<void> {
  let args;
  let failpoints: Map<FailpointName, FailpointAction>;
  try {
    args = parseDaemonArgs(process.argv.slice(2), process.env);
    failpoints = parseFailpoints(process.env.ETLD_FAILPOINTS);
  } catch (error) {
    process.stderr.write(`etld: ${toEtlError(error).message}\n`);
    process.exit(EXIT_USAGE);
  }
  if (args.help) {
    process.stdout.write(DAEMON_HELP);
    return;
  }
  if (args.version) {
    process.stdout.write(`etld ${ETLD_VERSION}\n`);
    return;
  }
  if (args.checkConfig) {
    const check = await checkConfig({
      paths: resolvePaths({ home: args.home, configFile: args.config, cwd: process.cwd(), tmpDir: tmpdir() }),
      secrets: secretEnvironment(),
      hostTimezone: Intl.DateTimeFormat().resolvedOptions().timeZone,
      now: new Date(),
    });
    process.stdout.write(`${check.lines.join('\n')}\n`);
    process.exit(check.ok ? 0 : EXIT_FATAL);
  }

  const journal = new JournalSink(process.stdout, { format: args.logFormat ?? 'text' });
  // stdout until the settings are read; then journald's own socket when running under systemd.
  const consoleSink: { target: LogSink; write: LogSink['write'] } = {
    target: journal,
    write(record) {
      this.target.write(record);
    },
  };
  const logger = new FanoutLogger([consoleSink], { level: args.logLevel ?? 'info' });
  const datagrams = unixDatagramSender();
  // Type=notify: READY/STATUS/STOPPING and the watchdog's keep-alives, from the first moment.
  const notifySocket = process.env.NOTIFY_SOCKET;
  const notifier: ServiceNotifier = isNotifySocket(notifySocket)
    ? new SdNotifier(notifySocket, datagrams, logger)
    : noNotifier;
  const keepAliveMs = watchdogIntervalMs(process.env, process.pid);
  const keepAlive = keepAliveMs === null ? null : new WatchdogKeepAlive(notifier, keepAliveMs);
  keepAlive?.start();
  let composed: ComposedDaemon | undefined;
  let files: PipelineFileSink | undefined;

  const fail = (error: unknown, context: string, exitCode?: number): never => {
    const etl = toEtlError(error);
    logger.error(`${context}: ${etl.message}`, { code: etl.code });
    if (etl.code === 'INTERNAL' && error instanceof Error && error.stack) logger.debug(error.stack);
    process.exit(exitCode ?? exitCodeFor(etl));
  };

  // Signals are taken from the first moment: a SIGTERM during start-up drains once start-up is done.
  const handlers: { shutdown?: (signal: string) => void; reload?: () => void } = {};
  let shutdownSignal: string | undefined;
  let reloadRequested = false;
  const requestShutdown = (signal: string): void => {
    if (handlers.shutdown) handlers.shutdown(signal);
    else shutdownSignal ??= signal;
  };
  process.on('SIGHUP', () => {
    if (handlers.reload) handlers.reload();
    else reloadRequested = true;
  });
  process.on('SIGTERM', () => requestShutdown('SIGTERM'));
  process.on('SIGINT', () => requestShutdown('SIGINT'));
  // After start-up an escaped error is a bug, not a configuration problem: whatever its code, the
  // exit status must let systemd restart etld (78 would stop it for good), and the stack says where.
  const crash = (error: unknown): never => {
    if (error instanceof Error && error.stack) logger.error(error.stack);
    return fail(error, 'unexpected error, exiting so systemd restarts etld', EXIT_FATAL);
  };
  process.on('uncaughtException', crash);
  process.on('unhandledRejection', crash);

  try {
    const paths0 = resolvePaths({
      home: args.home,
      configFile: args.config,
      cwd: process.cwd(),
      tmpDir: tmpdir(),
    });
    const settings = await loadDaemonSettings(paths0.settingsFile, paths0.settingsExplicit);
    const paths = pathsWithSettings(paths0, settings);
    if (args.logFormat === undefined && settings.logs.format === 'json') {
      logger.log('debug', 'settings ask for JSON log lines; use --log-format json to switch stdout');
    }
    if (
      (args.logFormat ?? 'text') === 'text' &&
      settings.logs.journald === 'auto' &&
      stdoutIsJournal(process.env.JOURNAL_STREAM, stdoutStat())
    ) {
      consoleSink.target = new JournaldSink({ sender: datagrams, fallback: journal });
      logger.debug('stdout is the journal: logging to journald with PIPELINE, RUN_ID and ATTEMPT fields');
    }
    files = new PipelineFileSink({
      logDir: paths.logDir,
      maxSize: settings.logs.max_size,
      maxAgeMs: settings.logs.max_age,
      keep: settings.logs.keep,
      totalMaxSize: settings.logs.total_max_size,
      compress: settings.logs.compress,
      fallback: consoleSink,
      level: settings.logs.level,
    });
    logger.addSink(files);
    logger.info(`etld ${ETLD_VERSION} starting (pid ${process.pid}, home ${paths.home ?? 'system paths'})`);

    if (failpoints.size > 0)
      logger.warning(`test failpoints armed (ETLD_FAILPOINTS): ${[...failpoints.keys()].join(', ')}`);
    composed = await composeDaemon({
      ...(failpoints.size === 0
        ? {}
        : {
            failpoint: (name: FailpointName) => {
              const action = failpoints.get(name);
              if (action !== undefined) process.kill(process.pid, action === 'kill' ? 'SIGKILL' : 'SIGSTOP');
            },
          }),
      ...(args.once !== undefined ? { once: args.once } : {}),
      cpuClock: () => {
        const all = process.cpuUsage();
        const main = process.threadCpuUsage();
        return { process: (all.user + all.system) / 1e6, mainThread: (main.user + main.system) / 1e6 };
      },
      paths,
      settings,
      logger,
      secrets: secretEnvironment(),
      identity: { version: ETLD_VERSION, host: hostname(), pid: process.pid },
      isAlive: (pid) => {
        try {
          process.kill(pid, 0);
          return true;
        } catch (error) {
          return (error as NodeJS.ErrnoException).code === 'EPERM';
        }
      },
      hostTimezone: Intl.DateTimeFormat().resolvedOptions().timeZone,
      rssBytes: () => process.memoryUsage.rss(),
      notifier,
      // RSS, CPU seconds, open files, event loop lag and GC, read from this process.
      processMetrics: (registry) => {
        collectDefaultMetrics({ register: registry });
        dropMisnamedDefaultMetrics(registry);
      },
    });
    await composed.daemon.start();
  } catch (error) {
    await files?.close();
    fail(error, 'etld cannot start');
  }

  if (!composed) return;
  const running = composed.daemon;
  if (args.once !== undefined) {
    const run = await composed
      .runOnce(args.once)
      .catch((error: unknown) => fail(error, `cannot run ${args.once}`));
    const summary = `${run.id} ${run.status}: ${run.rows_extracted} rows extracted, ${run.rows_loaded} loaded${run.error ? `; ${run.error.code}: ${run.error.message}` : ''}`;
    if (run.status === 'succeeded') logger.notice(summary, { pipeline: run.pipeline, runId: run.id });
    else logger.error(summary, { pipeline: run.pipeline, runId: run.id });
    await running.stop(0);
    await files?.close();
    process.exit(run.status === 'succeeded' ? 0 : 1);
  }
  handlers.reload = (): void => {
    running.reload().catch((error: unknown) => logger.error(`reload failed: ${toEtlError(error).message}`));
  };
  if (reloadRequested) handlers.reload();
  handlers.shutdown = (signal: string): void => {
    logger.notice(`${signal} received`);
    running
      .stop()
      .then(async () => {
        await files?.close();
        process.exit(0);
      })
      .catch((error: unknown) => fail(error, 'shutdown failed'));
  };
  if (shutdownSignal !== undefined) handlers.shutdown(shutdownSignal);
}

main().catch((error: unknown) => {
  process.stderr.write(`etld: ${toEtlError(error).message}\n`);
  process.exit(EXIT_FATAL);
});
