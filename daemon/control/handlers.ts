import type { Caller, DaemonApi } from './api.js';
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
  /** Who sent the request (recorded with the changes and runs it asks for). */
  readonly caller: Caller;
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
    list: (params, ctx) => api.list(params, ctx.caller),
    status: (params, ctx) => api.status(params, ctx.caller),
    info: (params, ctx) => api.info(params, ctx.caller),
    hosts: (params, ctx) => api.hosts(params, ctx.caller),
    start: (params, ctx) => api.start(params, ctx.caller),
    stop: (params, ctx) => api.stop(params, ctx.caller),
    pause: (params, ctx) => api.pause(params, ctx.caller),
    resume: (params, ctx) => api.resume(params, ctx.caller),
    history: (params, ctx) => api.history(params, ctx.caller),
    tables: (params, ctx) => api.tables(params, ctx.caller),
    run: (params, ctx) => api.run(params, ctx.caller),
    runs: (params, ctx) => api.runs(params, ctx.caller),
    changes: (params, ctx) => api.changes(params, ctx.caller),
    backfill: (params, ctx) => api.backfill(params, ctx.caller),
    logs: async (params, ctx) => {
      if (!params.follow) return api.logs(params, ctx.caller);
      // Registered before reading the past lines so that nothing logged in between is lost.
      const follow = ctx.followLogs(logFilterFrom(params));
      try {
        const result = await api.logs(params, ctx.caller);
        follow.release(result.lines);
        return { lines: result.lines, following: true };
      } catch (error) {
        follow.cancel();
        throw error;
      }
    },
    reload: (params, ctx) => api.reload(params, ctx.caller),
    validate: (params, ctx) => api.validate(params, ctx.caller),
    problems: (params, ctx) => api.problems(params, ctx.caller),
    why: (params, ctx) => api.why(params, ctx.caller),
    plan: (params, ctx) => api.plan(params, ctx.caller),
    preview: (params, ctx) => api.preview(params, ctx.caller),
    vacuum: (params, ctx) => api.vacuum(params, ctx.caller),
    watermark: (params, ctx) => api.watermark(params, ctx.caller),
    pipeline_file: (params, ctx) => api.pipeline_file(params, ctx.caller),
    files: (params, ctx) => api.files(params, ctx.caller),
    files_pending: (params, ctx) => api.files_pending(params, ctx.caller),
    files_forget: (params, ctx) => api.files_forget(params, ctx.caller),
    alerts: (params, ctx) => api.alerts(params, ctx.caller),
    subscribe: (params, ctx) => {
      const topics = new Set<Topic>(params.topics);
      ctx.subscribe({ topics, pipeline: params.pipeline ?? null });
      return Promise.resolve({ topics: [...topics] });
    },
    unsubscribe: (_params, ctx) => {
      ctx.unsubscribe();
      return Promise.resolve({ ok: true });
    },
    test: (params, ctx) => api.test(params, ctx.caller),
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
