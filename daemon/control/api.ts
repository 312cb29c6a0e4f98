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

/**
 * Who sent a request, as its connection knows it. `user` is what the client reported in its hello
 * (etlctl sends the login running it): whoever may open the socket (mode 0660) or holds the TCP
 * token is trusted to operate etld, so this names the operator for the record, it does not
 * authenticate them.
 */
export interface Caller {
  readonly user: string | null;
  /** The client's name and version (`etlctl/0.1.0`). */
  readonly client: string | null;
  /** `unix`, or the TCP peer `127.0.0.1:52144`. */
  readonly connection: string;
}

/** `alice (etlctl/0.1.0, unix)`: how changes and runs record who asked for them. */
export function describeCaller(caller: Caller): string {
  return `${caller.user ?? 'unknown user'} (${caller.client ?? 'unknown client'}, ${caller.connection})`;
}

export type DaemonApi = { readonly events: EventBus } & {
  readonly [M in DaemonMethod]: (params: MethodParams<M>, caller: Caller) => Promise<MethodResult<M>>;
};
