/**
 * The `state_store` alerts of a host in a fleet: the shared PostgreSQL state store stopped
 * answering this host, and later answers again. The first goes out while the store cannot record
 * it (alert-service.ts sends it without a row and records it once the store is back); the second
 * says how long the outage lasted. Neither names a pipeline: the whole host is affected.
 */
import { redact } from '../logging/redact.js';
import { footer, table, type MailText, type MessageContext } from './alert-messages.js';

export interface StateStoreDownAlert {
  /** Where the store is, without credentials (`host:port/database`). */
  readonly store: string;
  /** When this host's first heartbeat failed. */
  readonly since: string;
  /** The error of that heartbeat. */
  readonly message: string;
  /** The fleet lease: a host silent for longer loses its runs to other hosts. */
  readonly leaseMs: number;
}

export interface StateStoreBackAlert {
  readonly store: string;
  readonly since: string;
  readonly until: string;
}

export function stateStoreDownMail(alert: StateStoreDownAlert, ctx: MessageContext): MailText {
  const lines = [
    `The shared state store does not answer ${ctx.host} since ${alert.since}.`,
    'Runs under way finish or fail at their next state write (and are continued once the store is back);',
    `no schedule fires here until it answers. After ${Math.round(alert.leaseMs / 1000)} s without it this host starts no run, and its runs may be taken over.`,
    '',
    table([
      ['State store', alert.store],
      ['Since', alert.since],
      ['Host', ctx.host],
    ]),
    '',
    'Error:',
    `  ${redact(alert.message)}`,
    '',
    'To look further:',
    `  journalctl -u ${ctx.unit} -p err`,
    '  etlctl hosts',
    ...footer(ctx),
  ];
  return { subject: `[etld] state store UNREACHABLE from ${ctx.host}`, text: lines.join('\n') };
}

export function stateStoreBackMail(alert: StateStoreBackAlert, ctx: MessageContext): MailText {
  const seconds = Math.max(0, Math.round((Date.parse(alert.until) - Date.parse(alert.since)) / 1000));
  const lines = [
    `The shared state store answers ${ctx.host} again, after ${seconds} s.`,
    'Runs cut off by the outage are continued under their own sequences; fires missed during it are not run.',
    '',
    table([
      ['State store', alert.store],
      ['Unreachable', `${alert.since} to ${alert.until}`],
      ['Host', ctx.host],
    ]),
    '',
    'To look further:',
    '  etlctl runs --since 1h',
    ...footer(ctx),
  ];
  return {
    subject: `[etld] state store reachable again from ${ctx.host} (${seconds} s)`,
    text: lines.join('\n'),
  };
}
