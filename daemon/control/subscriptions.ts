import { runIdMatches } from '../../shared/run-ids.js';
import type { EventData, EventName, LogLine, MethodParams } from '../../shared/protocol.js';
import { EtlError } from '../../shared/errors.js';
import { DAEMON_LOG_DIR } from '../../shared/logs/log-files.js';

export type Topic = MethodParams<'subscribe'>['topics'][number];

export interface Subscription {
  readonly topics: ReadonlySet<Topic>;
  readonly pipeline: string | null;
}

/** What one `logs --follow` request wants to see. */
export interface LogFilter {
  /** One pipeline, `etld` for the daemon's own lines, null for all. */
  readonly pipeline: string | null;
  readonly errorsOnly: boolean;
  readonly runId: string | null;
  readonly grep: RegExp | null;
}

/** The topic a client subscribes to in order to receive each event. */
const EVENT_TOPIC: { readonly [E in EventName]: Topic } = {
  'run.state': 'runs',
  'run.progress': 'progress',
  log: 'logs',
  'pipelines.changed': 'pipelines',
  resources: 'resources',
};

export function logFilterFrom(params: MethodParams<'logs'>): LogFilter {
  let grep: RegExp | null = null;
  if (params.grep !== undefined) {
    try {
      grep = new RegExp(params.grep);
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      throw new EtlError(
        'PROTOCOL_INVALID',
        `invalid grep pattern ${JSON.stringify(params.grep)}: ${reason}`,
      );
    }
  }
  return {
    pipeline: params.pipeline ?? null,
    errorsOnly: params.errors_only,
    runId: params.run_id ?? null,
    grep,
  };
}

export function logMatches(filter: LogFilter, line: LogLine): boolean {
  if (filter.pipeline === DAEMON_LOG_DIR) {
    if (line.pipeline !== null) return false;
  } else if (filter.pipeline !== null && line.pipeline !== filter.pipeline) return false;
  if (filter.errorsOnly && line.level !== 'error' && line.level !== 'warning') return false;
  if (filter.runId !== null && !runIdMatches(line.run_id, filter.runId)) return false;
  if (filter.grep !== null && !filter.grep.test(line.message)) return false;
  return true;
}

/**
 * The event as this subscription should see it, or undefined when it is not wanted. A
 * pipeline-scoped subscription sees that pipeline's runs, progress, logs and list entry only.
 */
export function eventForSubscription<E extends EventName>(
  subscription: Subscription,
  event: E,
  data: EventData<E>,
): EventData<E> | undefined {
  if (!subscription.topics.has(EVENT_TOPIC[event])) return undefined;
  const pipeline = subscription.pipeline;
  if (pipeline === null) return data;
  const record = data as EventData<EventName>;
  if ('pipelines' in record) {
    return { pipelines: record.pipelines.filter((p) => p.name === pipeline) } as EventData<E>;
  }
  if ('pipeline' in record) return record.pipeline === pipeline ? data : undefined;
  return data;
}
