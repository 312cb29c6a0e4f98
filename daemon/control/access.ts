/**
 * The role a control connection holds, decided once when it connects: by the socket it came
 * through (the operator socket or the read-only socket) or by the bearer token it presented on TCP.
 * `dispatch` (handlers.ts) is the one place that enforces it, using each method's `mutates` rule
 * from the protocol table.
 */
import { EtlError } from '../../shared/errors.js';
import { callMutates, type AccessRole, type MethodName, type MethodParams } from '../../shared/protocol.js';

export interface SessionAccess {
  readonly role: AccessRole;
  /** How the connection got its role, as refusals name it: `the read-only socket /run/etld/etld-ro.sock`. */
  readonly via: string;
}

export const OPERATOR_ACCESS: SessionAccess = { role: 'operator', via: 'the operator socket' };

/** Throws READ_ONLY when a read-only connection makes a call that changes the daemon's state. */
export function assertAllowed<M extends MethodName>(
  access: SessionAccess,
  method: M,
  params: MethodParams<M>,
): void {
  if (access.role === 'operator' || !callMutates(method, params)) return;
  throw new EtlError(
    'READ_ONLY',
    `this connection is read-only (${access.via}) and "${method}" changes the daemon's state; connect through the operator socket or with the operator token to do that`,
  );
}
