/**
 * A COM_QUERY through mysql2 whose rows arrive as raw packets instead of JavaScript values.
 *
 * mysql2 keeps doing everything around the rows: the query packet, column definitions, EOF and
 * error packets, packet framing and sequence ids, pause/resume, connection loss. Only its row
 * step is swapped, per query: mysql2's Query command is a state machine whose state after the
 * column definitions is read from the instance (`this.row`), so an own `row` on the instance gets
 * each row packet (the parser's reused packet object: its bytes are only valid during the call).
 * A profile of 1M rows showed mysql2's row step (decode each cell to a string, build an array,
 * emit 'result') costing several times the packet framing it sits on.
 *
 * This leans on mysql2 internals (checked here, and by the tests against the locked version): if a
 * release parses rows some other way, mysql2 would emit 'result' per row, which is reported.
 */
import type mysql from 'mysql2';
import { EtlError } from '../../../shared/errors.js';

/** The fields of mysql2's Packet this module reads. */
interface RowPacket {
  readonly buffer: Buffer;
  /** Start of the payload (after the 4-byte header). */
  readonly offset: number;
  readonly end: number;
  isEOF(): boolean;
}

type RowState = (this: unknown, packet: RowPacket, connection: unknown) => unknown;

interface QueryStates {
  row?: RowState;
}

export interface RowPacketHandlers {
  /** One row's payload, `buffer[start, end)`; may throw only to declare the connection unusable. */
  row(buffer: Buffer, start: number, end: number): void;
  /** The result's column count, once per result set (0 for a statement that returns no rows). */
  columns(count: number): void;
  /** mysql2 did something this module does not expect (see the header). */
  unexpected(error: EtlError): void;
}

function internalsChanged(detail: string): EtlError {
  return new EtlError(
    'INTERNAL',
    `the installed mysql2 ${detail}; etld's MySQL row reader (mysql-row-packets.ts) needs updating`,
  );
}

/**
 * Starts `sql` on `connection`; rows go to `handlers.row`. The returned query emits mysql2's
 * 'error' and 'end'. A throw from `handlers.row` makes mysql2 treat the connection as broken
 * (it destroys the socket and emits 'error' on the connection).
 */
export function queryRowPackets(
  connection: mysql.Connection,
  sql: string,
  handlers: RowPacketHandlers,
): mysql.Query {
  const query = connection.query({ sql });
  const parsedRow = (Object.getPrototypeOf(query) as QueryStates).row;
  if (typeof parsedRow !== 'function') {
    // Still let the query run to its end so the connection stays in step; its rows are not read.
    handlers.unexpected(internalsChanged('has no row state on its Query command'));
    return query;
  }
  const rawRow: RowState = function (this: unknown, packet, state) {
    // End of the rows (or of one result of several): mysql2's own handling decides what follows.
    if (packet.isEOF()) return parsedRow.call(this, packet, state);
    handlers.row(packet.buffer, packet.offset, packet.end);
    return rawRow;
  };
  (query as unknown as QueryStates).row = rawRow;
  query.on('fields', (fields: unknown) => handlers.columns(Array.isArray(fields) ? fields.length : 0));
  query.on('result', () => handlers.unexpected(internalsChanged('parsed a row itself')));
  return query;
}
