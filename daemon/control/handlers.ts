import type { DaemonApi } from './api.js';
import { assertAllowed, type SessionAccess } from './access.js';
import { EtlError } from '../../shared/errors.js';
import {
  METHODS,
  type LogLine,
  type MethodName,
  type MethodParams,
  type MethodResult,
} from '../../shared/protocol.js';
import { logFilterFrom, type LogFilter, type Subscription, type Topic } from './subscriptions.js';

/** A `logs --follow` registration: events are held back until the reply with the past lines is sent. */
export interface LogFollow {
  /** Start forwarding after the reply; lines already in the reply are not sent twice. */
  release(alreadySent: readonly LogLine[]): void;
  cancel(): void;
}

/** What a handler may do to the connection that sent the request. */
export interface HandlerContext {
  subscribe(subscription: Subscription): void;
  unsubscribe(): void;
  followLogs(filter: LogFilter): LogFollow;
}

type Handler<M extends MethodName> = (
  params: MethodParams<M>,
  ctx: HandlerContext,
) => Promise<MethodResult<M>>;

/** One handler per protocol method: adding a method to METHODS without a handler does not compile. */
export type HandlerTable = { readonly [M in MethodName]: Handler<M> };

export function createHandlers(api: DaemonApi): HandlerTable {
  return {
    list: (params) => api.list(params),
    status: (params) => api.status(params),
    info: (params) => api.info(params),
    start: (params) => api.start(params),
    stop: (params) => api.stop(params),
    pause: (params) => api.pause(params),
    resume: (params) => api.resume(params),
    history: (params) => api.history(params),
    run: (params) => api.run(params),
    logs: async (params, ctx) => {
      if (!params.follow) return api.logs(params);
      // Registered before reading the past lines so that nothing logged in between is lost.
      const follow = ctx.followLogs(logFilterFrom(params));
      try {
        const result = await api.logs(params);
        follow.release(result.lines);
        return { lines: result.lines, following: true };
      } catch (error) {
        follow.cancel();
        throw error;
      }
    },
    reload: (params) => api.reload(params),
    validate: (params) => api.validate(params),
    why: (params) => api.why(params),
    plan: (params) => api.plan(params),
    preview: (params) => api.preview(params),
    vacuum: (params) => api.vacuum(params),
    watermark: (params) => api.watermark(params),
    pipeline_file: (params) => api.pipeline_file(params),
    recent_runs: (params) => api.recent_runs(params),
    alerts: (params) => api.alerts(params),
    subscribe: (params, ctx) => {
      const topics = new Set<Topic>(params.topics);
      ctx.subscribe({ topics, pipeline: params.pipeline ?? null });
      return Promise.resolve({ topics: [...topics] });
    },
    unsubscribe: (_params, ctx) => {
      ctx.unsubscribe();
      return Promise.resolve({ ok: true });
    },
  };
}

export interface DispatchOptions {
  /** Check every result against the protocol schema (catches daemon bugs before clients do). */
  readonly validateResults: boolean;
  /** What the connection may do: a read-only one is refused every call that mutates. */
  readonly access: SessionAccess;
}

/**
 * Validates params, refuses a read-only connection's mutating call, runs the method's handler and
 * (optionally) validates its result. Every request passes here, so this is where the read-only role
 * is enforced. Throws EtlError: PROTOCOL_INVALID for bad params, READ_ONLY for a refused call,
 * INTERNAL for a result that breaks the contract.
 */
export async function dispatch<M extends MethodName>(
  handlers: HandlerTable,
  method: M,
  rawParams: unknown,
  ctx: HandlerContext,
  options: DispatchOptions,
): Promise<MethodResult<M>> {
  const spec = METHODS[method];
  const parsed = spec.params.safeParse(rawParams ?? {});
  if (!parsed.success) {
    const problems = parsed.error.issues
      .slice(0, 3)
      .map((issue) =>
        issue.path.length > 0 ? `${issue.path.map(String).join('.')}: ${issue.message}` : issue.message,
      );
    throw new EtlError('PROTOCOL_INVALID', `invalid params for "${method}": ${problems.join('; ')}`);
  }
  const params = parsed.data as MethodParams<M>;
  assertAllowed(options.access, method, params);
  const handler = handlers[method] as Handler<M>;
  const result = await handler(params, ctx);
  if (options.validateResults) {
    const checked = spec.result.safeParse(result);
    if (!checked.success) {
      const issue = checked.error.issues[0];
      throw new EtlError(
        'INTERNAL',
        `the daemon produced an invalid "${method}" result (${issue ? `${issue.path.map(String).join('.')}: ${issue.message}` : 'unknown'})`,
      );
    }
  }
  return result;
}
