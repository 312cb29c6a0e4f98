/**
 * The daemon as the control socket sees it, derived from the protocol's `METHODS`: one method per
 * protocol method, taking its params and resolving with its result, so a method added to the
 * protocol does not compile until the daemon answers it. `subscribe` and `unsubscribe` are the
 * control server's own. `handlers.ts` maps the protocol's handler table onto this interface;
 * `daemon-api.ts` implements it. Methods throw EtlError (NOT_FOUND, ILLEGAL_STATE…).
 */
import type { MethodName, MethodParams, MethodResult } from '../../shared/protocol.js';
import type { EventBus } from '../events/event-bus.js';

/** The protocol methods the daemon answers (the rest belong to the control server). */
export type DaemonMethod = Exclude<MethodName, 'subscribe' | 'unsubscribe'>;

export type DaemonApi = { readonly events: EventBus } & {
  readonly [M in DaemonMethod]: (params: MethodParams<M>) => Promise<MethodResult<M>>;
};
