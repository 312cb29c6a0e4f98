/**
 * The composition root: builds every part of a running daemon in dependency order — lock, state
 * store, pipelines, engine, supervisor, alerts, resources, control socket, observability (metrics,
 * HTTP endpoint, freshness, systemd notifications, run events) — and hands the daemon a `release`
 * that undoes it in reverse. Nothing here touches `process`: main.ts passes it in.
 */
import type { Registry } from 'prom-client';
import { mkdir, rm } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { DaemonSettings } from '../shared/config/daemon-schema.js';
import { EtlError } from '../shared/errors.js';
import type { Resources, RunRecord } from '../shared/protocol.js';
import { buildAlertChannels } from './alerts/alert-channels.js';
import { httpToken, stateStoreUrl } from './settings-secrets.js';
import type { FleetCoordinator } from './fleet/coordinator.js';
import type { FleetControl } from './fleet/fleet-control.js';
import { FleetHeartbeat } from './fleet/fleet-heartbeat.js';
import { FleetSourceGovernor } from './fleet/fleet-source-governor.js';
import type { FleetSourceSlots } from './fleet/fleet-source-slots.js';
import { PostgresCoordinator } from './fleet/postgres-coordinator.js';
import { SoloCoordinator } from './fleet/solo-coordinator.js';
import { openPostgresStateStore } from './state/postgres-store.js';
import type { StateStore } from './state/store.js';
import { AlertService } from './alerts/alert-service.js';
import { RunEventPublisher } from './alerts/run-events.js';
import type { PipelineDirectory } from '../shared/config/pipeline-files.js';
import { logLoadProblems } from './config/load-report.js';
import { PipelineLoader } from './config/pipeline-loader.js';
import { PipelineRegistry } from './config/pipeline-registry.js';
import { readSecret, resolveConnection, type SecretEnvironment } from './config/secrets.js';
import { controlListeners, parseListen } from './control/listener-settings.js';
import { ControlServer } from './control/server.js';
import { Daemon } from './daemon.js';
import { DaemonApiImpl } from './control/daemon-api.js';
import type { FailpointName } from './engine/engine.js';
import { DefaultRunEngine } from './engine/run-engine.js';
import { EventBus } from './events/event-bus.js';
import { StateDirectoryLock } from './host/lock.js';
import { recordToLogLine } from './logging/log-codec.js';
import { readLogs } from '../shared/logs/log-reader.js';
import type { FanoutLogger } from './logging/logger.js';
import { FreshnessMonitor } from './observability/freshness.js';
import { HttpEndpoint } from './observability/http-endpoint.js';
import { instrumentGovernor, instrumentStore } from './observability/instrument.js';
import { EtldMetrics, pipelineViews } from './observability/metrics.js';
import { Observability } from './observability/observability.js';
import { noNotifier, type ServiceNotifier } from './observability/sd-notify.js';
import type { DaemonPaths } from '../shared/paths.js';
import { lowDisks, ResourceMonitor } from './resources/resource-monitor.js';
import { pipelineStats } from './resources/pipeline-stats.js';
import { SystemClock } from './scheduler/clock.js';
import { SourceGovernor } from './scheduler/source-governor.js';
import { Supervisor } from './scheduler/supervisor.js';
import { openStateStore } from './state/sqlite-store.js';
import { toRunRecord } from './scheduler/run-records.js';
import type { CpuClock } from './engine/stage-clock.js';

export interface ComposeOptions {
  readonly paths: DaemonPaths;
  readonly settings: DaemonSettings;
  readonly logger: FanoutLogger;
  readonly secrets: SecretEnvironment;
  readonly identity: { readonly version: string; readonly host: string; readonly pid: number };
  readonly isAlive: (pid: number) => boolean;
  readonly hostTimezone: string;
  readonly rssBytes: () => number;
  /** Process and main-thread CPU seconds, for each run's per-stage CPU split. */
  readonly cpuClock: CpuClock;
  /**
   * `etld --once NAME`: run that one pipeline once in the foreground (benchmarks, debugging, cron),
   * without schedules or the control socket; the lock still keeps a daemon off the same home.
   */
  readonly once?: string;
  /** Test hook (`ETLD_FAILPOINTS`, read by main.ts): stops the process at named points of a commit. */
  readonly failpoint?: (name: FailpointName) => void;
  /** systemd's notify socket (main.ts builds it from $NOTIFY_SOCKET); default: none. */
  readonly notifier?: ServiceNotifier;
  /** Registers the process metrics (RSS, CPU, event loop) on /metrics' registry: main.ts's part. */
  readonly processMetrics?: (registry: Registry) => void;
}

export interface ComposedDaemon {
  readonly daemon: Daemon;
  /** Triggers the pipeline and resolves with the final run (after any retries its policy allows). */
  runOnce(name: string): Promise<RunRecord>;
}

/** Keeps only `name`, without its schedule: a one-shot run must not fire again. */
function onlyPipeline(directory: PipelineDirectory, name: string): PipelineDirectory {
  const pipeline = directory.valid.find((p) => p.name === name);
  if (!pipeline) {
    const broken = directory.invalid.find((p) => p.name === name);
    throw new EtlError(
      broken ? 'CONFIG_INVALID' : 'NOT_FOUND',
      broken
        ? `pipeline ${name} is invalid:\n${broken.problems.join('\n')}`
        : `no pipeline named "${name}" in the pipelines directory`,
      { retryable: false },
    );
  }
  const { schedule: _schedule, ...config } = pipeline.config;
  return { valid: [{ ...pipeline, config }], invalid: [], connections: directory.connections };
}

export async function composeDaemon(options: ComposeOptions): Promise<ComposedDaemon> {
  const { paths, settings, logger, identity } = options;
  const undo: (() => Promise<void> | void)[] = [];
  const release = async (): Promise<void> => {
    for (const step of undo.reverse()) {
      try {
        await step();
      } catch (error) {
        logger.error(`shutdown step failed: ${(error as Error).message}`);
      }
    }
  };

  try {
    const lock = new StateDirectoryLock(paths.stateDir, identity.pid);
    lock.acquire(options.isAlive);
    undo.push(() => lock.release());

    // The lock stays in fleet mode: it keeps two daemons off one host's state directory.
    const fleetHost = settings.fleet.host_name ?? identity.host;
    const startedAt = new Date().toISOString();
    let rawStore: StateStore;
    let coordinator: FleetCoordinator;
    // Fleet mode's shared store, which fleet control LISTENs on (null: a host alone).
    let fleetUrl: string | null = null;
    let fleetSlots: FleetSourceSlots | null = null;
    if (settings.state.type === 'postgres') {
      const url = stateStoreUrl(settings.state, options.secrets);
      fleetUrl = url;
      rawStore = openPostgresStateStore({ url, applicationName: `etld ${fleetHost}` });
      undo.push(() => rawStore.close());
      const shared = await PostgresCoordinator.join({
        url,
        host: fleetHost,
        pid: identity.pid,
        version: identity.version,
        startedAt,
        leaseMs: settings.fleet.lease,
        onNameWait: (message) => logger.notice(message),
      });
      coordinator = shared;
      fleetSlots = shared.sourceSlots;
      logger.info(`fleet mode: host ${fleetHost}, run lease ${settings.fleet.lease} ms`);
    } else {
      rawStore = openStateStore(settings.state.path ?? join(paths.stateDir, 'etld.db'));
      undo.push(() => rawStore.close());
      coordinator = new SoloCoordinator({
        host: fleetHost,
        pid: identity.pid,
        version: identity.version,
        startedAt,
      });
    }
    // Runs under way when the store closes keep their leases until they expire; a clean stop
    // gives them back (and marks the host stopped) after the supervisor drained.
    undo.push(() => coordinator.leave());

    await mkdir(paths.tempRoot, { recursive: true });
    // Staging of runs killed with the previous daemon: nothing in it is referenced any more.
    await rm(paths.tempRoot, { recursive: true, force: true });
    await mkdir(paths.tempRoot, { recursive: true });

    const registry = new PipelineRegistry();
    const loader = new PipelineLoader({
      pipelinesDir: paths.pipelinesDir,
      record: rawStore,
      secrets: options.secrets,
      defaultTimezone: settings.defaults.timezone ?? options.hostTimezone,
      now: () => new Date(),
    });
    const directory = await loader.load();
    const initial = registry.apply(
      options.once === undefined ? directory : onlyPipeline(directory, options.once),
    );
    if (options.once === undefined) loader.remember(registry.active);
    logLoadProblems(registry, logger);
    logger.info(`loaded ${initial.added.length} pipeline(s) from ${paths.pipelinesDir}`);

    const events = new EventBus();
    // The socket's log events carry the same (redacted) line the files hold.
    logger.addSink({ write: (record) => events.emit('log', recordToLogLine(record)) });

    const clock = new SystemClock();
    // In a fleet, source_slots_per_host counts every host's queries (the shared store's table).
    const slotsPerHost = settings.defaults.source_slots_per_host;
    const governor =
      fleetSlots === null
        ? new SourceGovernor({ slotsPerHost })
        : new FleetSourceGovernor({
            slots: fleetSlots,
            slotsPerHost,
            onReleaseError: (error) =>
              logger.warning(
                `a fleet source slot could not be given back (it expires after the lease): ${error.message}`,
              ),
          });
    // Summaries come from the supervisor, built below; metrics read them only when scraped.
    const late: { supervisor?: Supervisor; freshness?: FreshnessMonitor } = {};
    const metrics = new EtldMetrics({
      store: rawStore,
      pipelines: () => pipelineViews(late.supervisor?.summaries() ?? []),
      slots: () => governor.usage(),
      now: () => clock.now(),
      version: identity.version,
      logger,
    });
    options.processMetrics?.(metrics.registry);
    // Everyone else gets the timed store: each call's latency lands in /metrics.
    const store = instrumentStore(rawStore, metrics);
    const unsubscribeMetrics = metrics.attach(events);
    undo.push(unsubscribeMetrics);

    const connectionResolver = (connection: Parameters<typeof resolveConnection>[0]) =>
      resolveConnection(connection, options.secrets);
    const engine = new DefaultRunEngine({
      store,
      governor: instrumentGovernor(governor, metrics),
      lakeDir: paths.lakeDir,
      tempRoot: paths.tempRoot,
      logger,
      resolveConnection: connectionResolver,
      secrets: options.secrets,
      defaultParallelism: settings.defaults.parallelism,
      stagingMemoryBytes: settings.defaults.memory_limit,
      stagingThreads: settings.defaults.threads,
      bigqueryPricePerTib: settings.defaults.bigquery_price_per_tib,
      cpuClock: options.cpuClock,
      ...(options.failpoint === undefined ? {} : { failpoint: options.failpoint }),
    });

    const smtpPassword = settings.smtp ? readSecret(settings.smtp, options.secrets, 'smtp') : undefined;
    // In a fleet, alerts and events name the host by its fleet name (`fleet.host_name`).
    const envelope = { host: fleetHost, version: identity.version };
    const channels = buildAlertChannels(settings.alerts.channels, options.secrets, envelope);
    const channelsFor = (pipeline: string): readonly string[] =>
      registry.get(pipeline)?.config.alerts.channels ?? [];
    const alerts = new AlertService({
      smtp: settings.smtp ?? null,
      smtpPassword: smtpPassword ?? null,
      defaultRecipients: settings.alerts.email,
      throttleMs: settings.alerts.throttle,
      store,
      logger,
      host: fleetHost,
      recipientsFor: (pipeline: string) => registry.get(pipeline)?.config.alerts.email ?? [],
      channels: channels.alertChannels,
      channelsFor,
      onOutcome: (kind, channel, status) => metrics.alert(kind, channel, status),
    });
    undo.push(() => alerts.close());
    const runEvents = new RunEventPublisher({
      webhooks: channels.webhooks,
      store,
      host: fleetHost,
      logger,
      channelsFor,
      onOutcome: (channel, event, outcome) => metrics.runEvent(channel, event, outcome),
    });
    runEvents.start(events);
    undo.push(() => runEvents.close());

    const supervisor = new Supervisor({
      store,
      engine,
      clock,
      logger,
      events,
      alerts,
      governor,
      defaults: {
        stallTimeoutMs: settings.defaults.stall_timeout,
        timezone: settings.defaults.timezone ?? options.hostTimezone,
      },
      freshness: (pipeline) => late.freshness?.of(pipeline) ?? null,
      coordinator,
    });
    late.supervisor = supervisor;
    if (coordinator.shared) {
      const heartbeat = new FleetHeartbeat({
        coordinator,
        leaseMs: settings.fleet.lease,
        logger,
        afterBeat: () => supervisor.takeOver(),
        outage: {
          started: (since, message) =>
            alerts.notifyStateStoreDown({
              store: rawStore.path,
              since: since.toISOString(),
              message,
              leaseMs: settings.fleet.lease,
            }),
          ended: (since, until) =>
            alerts.notifyStateStoreBack({
              store: rawStore.path,
              since: since.toISOString(),
              until: until.toISOString(),
            }),
        },
      });
      heartbeat.start();
      undo.push(() => heartbeat.stop());
    }
    // Stops sent to this host for a run on another host are forwarded to it (docs/fleet.md).
    let fleetControl: FleetControl | undefined;
    if (coordinator.shared && fleetUrl !== null) {
      // Loaded only in a fleet: it brings node-postgres, which an idle daemon alone never loads.
      const { FleetControl } = await import('./fleet/fleet-control.js');
      const control = new FleetControl({
        url: fleetUrl,
        host: coordinator.host,
        logger,
        stop: (pipeline, requestedBy) => {
          const { runId, stopped } = supervisor.stop(pipeline, requestedBy);
          return { run_id: runId, stopped };
        },
      });
      await control.start();
      undo.push(() => control.close());
      fleetControl = control;
    }
    const freshness = new FreshnessMonitor({
      clock,
      store,
      alerts,
      logger,
      ...(settings.defaults.freshness !== undefined ? { defaultMs: settings.defaults.freshness } : {}),
      nextRunAt: (pipeline) => supervisor.summaries().find((p) => p.name === pipeline)?.next_run_at ?? null,
      onChange: () => {
        try {
          events.emit('pipelines.changed', { pipelines: supervisor.summaries() });
        } catch (error) {
          logger.error(`could not publish pipeline summaries: ${(error as Error).message}`);
        }
      },
    });
    late.freshness = freshness;

    let latestResources: Resources | null = null;
    const resources = new ResourceMonitor({
      paths: [
        { label: 'state', path: paths.stateDir },
        { label: 'lake', path: paths.lakeDir },
        { label: 'logs', path: paths.logDir },
      ],
      rssBytes: options.rssBytes,
      intervalMs: 5_000,
      onError: (error) => logger.warning(`resource sampling failed: ${(error as Error).message}`),
    });
    const monitored = {
      sample: () => resources.sample(),
      start: () =>
        resources.start((sample) => {
          latestResources = sample;
          events.emit('resources', sample);
          for (const disk of lowDisks(sample, settings.alerts.low_disk_percent)) {
            alerts.notifyLowDisk({
              path: disk.path,
              label: disk.label,
              freeBytes: disk.free_bytes,
              totalBytes: disk.total_bytes,
              percent: disk.percentFree,
            });
          }
        }),
      stop: () => resources.stop(),
    };

    // The API needs the daemon and the daemon needs the control server built on the API.
    const built: { daemon?: Daemon } = {};
    const api = new DaemonApiImpl({
      daemon: () => {
        if (!built.daemon) throw new EtlError('ILLEGAL_STATE', 'the daemon is starting');
        return built.daemon;
      },
      events,
      paths,
      registry,
      loader,
      supervisor,
      store,
      engine,
      logReader: {
        read: (params) =>
          readLogs(paths.logDir, {
            lines: params.lines,
            errorsOnly: params.errors_only,
            ...(params.pipeline !== undefined ? { pipeline: params.pipeline } : {}),
            ...(params.since !== undefined ? { since: params.since } : {}),
            ...(params.run_id !== undefined ? { runId: params.run_id } : {}),
            ...(params.grep !== undefined ? { grep: params.grep } : {}),
          }),
      },
      latestResources: () => latestResources,
      stats: (pipeline) => pipelineStats(store, pipeline, new Date()),
      vacuum: (pipeline, dryRun) => engine.vacuum(pipeline, { dryRun, now: new Date() }),
      identity,
      now: () => new Date(),
      logger,
      fleet: coordinator,
      ...(fleetControl === undefined ? {} : { forwarder: fleetControl }),
    });

    const control =
      options.once !== undefined
        ? null
        : new ControlServer({
            api,
            socketPath: paths.socketPath,
            socketMode: Number.parseInt(settings.control.socket_mode, 8),
            ...controlListeners({
              control: settings.control,
              socketPath: paths.socketPath,
              settingsDir: dirname(paths.settingsFile),
              secrets: options.secrets,
            }),
            maxClients: settings.control.max_clients,
            maxFrameBytes: settings.control.max_frame_bytes,
            maxSendBufferBytes: settings.control.max_send_buffer_bytes,
            heartbeatMs: settings.control.heartbeat,
            logger,
            daemonInfo: identity,
          });

    const httpSettings = settings.http;
    const observability =
      options.once !== undefined
        ? null
        : new Observability({
            notifier: options.notifier ?? noNotifier,
            freshness,
            events,
            summaries: () => supervisor.summaries(),
            pingStore: () => store.ping(),
          });
    const http =
      observability === null || httpSettings === undefined
        ? null
        : new HttpEndpoint({
            ...parseListen(httpSettings.listen),
            token: httpToken(httpSettings, options.secrets),
            metrics,
            readiness: () => observability.readiness(),
            logger,
          });
    observability?.attachHttp(http);

    // Start-up reconciliation: a crash between a destination commit and the state update.
    const reconcile = async (): Promise<void> => {
      for (const pipeline of registry.active) {
        try {
          await engine.reconcile(pipeline);
        } catch (error) {
          logger.warning(`start-up reconciliation with the destination failed: ${(error as Error).message}`, {
            pipeline: pipeline.name,
          });
        }
      }
    };

    const daemon = new Daemon(
      {
        paths,
        settings,
        logger,
        registry,
        loader,
        supervisor,
        control,
        resources: options.once !== undefined ? null : monitored,
        reconcile,
        release,
        observability,
      },
      new Date(),
    );
    built.daemon = daemon;
    return {
      daemon,
      // The run ends when its sequence here ends: a failed attempt that is retried leaves it
      // `retrying`, so --once waits through every retry its policy allows. In a fleet it can also
      // end without a final status of this host's (another host took it over, or holds its lease
      // for the next retry): the run is then as the store records it.
      runOnce: async (name) => {
        const { runId } = supervisor.trigger(name, 'manual');
        await supervisor.activeRunEnded(name);
        return toRunRecord(store.attemptsOf(name, Number(runId.slice(name.length + 1))));
      },
    };
  } catch (error) {
    await release();
    throw error;
  }
}
