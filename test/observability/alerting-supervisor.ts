/**
 * The supervisor of one pipeline (`orders`) with a real AlertService delivering to the loopback
 * receivers of a test (SMTP on `smtpPort`, the channels built from the test's settings), a
 * scripted engine and a fake clock: the world of the alert tests that follow a run to its mails.
 */
import type { buildAlertChannels } from '../../daemon/alerts/alert-channels.js';
import { AlertService } from '../../daemon/alerts/alert-service.js';
import { EventBus } from '../../daemon/events/event-bus.js';
import { FanoutLogger } from '../../daemon/logging/logger.js';
import { Supervisor } from '../../daemon/scheduler/supervisor.js';
import type { StateStore } from '../../daemon/state/store.js';
import type { FakeClock } from '../scheduler/fake-clock.js';
import { pipeline, ScriptedEngine } from '../scheduler/harness.js';

export interface AlertingSupervisor {
  readonly alerts: AlertService;
  readonly engine: ScriptedEngine;
  readonly supervisor: Supervisor;
}

export function alertingSupervisor(options: {
  readonly store: StateStore;
  readonly clock: FakeClock;
  readonly smtpPort: number;
  readonly channels: ReturnType<typeof buildAlertChannels>;
  /** Where the service's close goes, run by the test's afterEach. */
  readonly cleanups: (() => void | Promise<void>)[];
}): AlertingSupervisor {
  const { store, clock } = options;
  const logger = new FanoutLogger([]);
  const alerts = new AlertService({
    smtp: {
      host: '127.0.0.1',
      port: options.smtpPort,
      tls: false,
      starttls: false,
      from: 'etld <etld@test.local>',
      reject_unauthorized: true,
    },
    defaultRecipients: ['oncall@test.local'],
    throttleMs: 30 * 60_000,
    store,
    logger,
    host: 'etl-host-1',
    now: () => clock.now(),
    retry: { attempts: 2, delayMs: 10, maxDelayMs: 20 },
    channels: options.channels.alertChannels,
  });
  options.cleanups.push(() => alerts.close());
  const engine = new ScriptedEngine(() => clock.now());
  const supervisor = new Supervisor({
    store,
    engine,
    clock,
    logger,
    events: new EventBus(),
    alerts,
    defaults: { stallTimeoutMs: 600_000, timezone: 'UTC' },
  });
  supervisor.setPipelines([pipeline('orders')], []);
  supervisor.start();
  return { alerts, engine, supervisor };
}
