/**
 * What the supervisor tells the alerting side (the operations engineer's AlertService implements
 * these names). Calls are fire-and-forget: a failing or slow alert must never hold up or crash a
 * run, so `callAlert` swallows synchronous throws and rejected promises into a log line.
 */
import type {
  ChecksAlert,
  FailureAlert,
  MaintenanceAlert,
  RecoveryAlert,
  StallAlert,
} from '../alerts/alert-messages.js';
import type { FilesQuarantinedAlert } from '../alerts/files-quarantined-message.js';
import type { Logger } from '../logging/logger.js';

// The alert payloads are the alerting side's own types, so the two cannot drift apart.
export type { ChecksAlert, FailureAlert, FilesQuarantinedAlert, MaintenanceAlert, RecoveryAlert, StallAlert };

export interface AlertHooks {
  notifyFailure(alert: FailureAlert): void | Promise<void>;
  notifyRecovery(alert: RecoveryAlert): void | Promise<void>;
  notifyStall(alert: StallAlert): void | Promise<void>;
  /** A run committed with data quality checks that warned or quarantined rows (the service filters). */
  notifyChecks(alert: ChecksAlert): void | Promise<void>;
  /** A committed run's table upkeep (a Delta checkpoint) failed again and again. */
  notifyMaintenance(alert: MaintenanceAlert): void | Promise<void>;
  /** A run succeeded but kept bad files out of its load (`source.on_bad_file: skip`). */
  notifyFilesQuarantined(alert: FilesQuarantinedAlert): void | Promise<void>;
}

export function callAlert(logger: Logger, what: string, call: () => void | Promise<void>): void {
  const report = (error: unknown): void => {
    logger.error(`alert hook ${what} failed: ${error instanceof Error ? error.message : String(error)}`);
  };
  try {
    const result = call();
    if (result instanceof Promise) result.catch(report);
  } catch (error) {
    report(error);
  }
}
