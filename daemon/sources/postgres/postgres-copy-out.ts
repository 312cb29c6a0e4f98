/**
 * `COPY (…) TO STDOUT` on a node-postgres client, as a Readable of the CSV text with no JavaScript
 * per row: the socket's chunks are read here directly and their CopyData framing is stripped in
 * place (copy-out-frames.ts). pg-copy-streams, used before, handled every row message on its own
 * (a buffer-list take and a push per row, a concatenation per chunk): about three times the main
 * thread's time for a 1M-row extract.
 *
 * How it sits on node-postgres 8 (the same contract pg-copy-streams relies on):
 * - `client.query(copyOut)` queues it like any query; the client calls `submit(connection)` once
 *   the connection is idle. There the socket's one 'data' listener, pg's protocol parser (which
 *   holds no partial message while the connection is idle), is swapped for ours, and the simple
 *   Query message is sent.
 * - Ours strips the COPY's messages until the first message that is not part of the data
 *   (CopyDone, or an ErrorResponse such as a division by zero after some rows or a cancel). From
 *   that message on the bytes go back to pg's parser, which is put back in place, so pg itself
 *   handles the end of the query: CommandComplete → `handleCommandComplete` (the row count),
 *   ReadyForQuery → `handleReadyForQuery` (this stream ends), ErrorResponse → `handleError`.
 * - A lost connection reaches `handleError` through the client too: it watches the socket's
 *   'error' and 'close' whoever reads the data.
 */
import { Readable } from 'node:stream';
import type { Duplex } from 'node:stream';
import type pg from 'pg';
import { EtlError } from '../../../shared/errors.js';
import { CopyOutFrames } from './copy-out-frames.js';

type DataListener = (chunk: Buffer) => void;

/** What node-postgres passes to `handleCommandComplete` (pg-protocol's CommandCompleteMessage). */
interface CommandComplete {
  readonly text?: unknown;
}

export class PostgresCopyOut extends Readable implements pg.Submittable {
  readonly #text: string;
  readonly #what: string;
  readonly #frames: CopyOutFrames;
  readonly #onChunk: (rows: number, bytes: number) => void;
  /** While the COPY's messages are read here: the socket, and pg's parser taken off it. */
  #socket: Duplex | undefined;
  #parser: DataListener | undefined;
  #paused = false;
  /** The consumer has enough for now; `_read` says when it wants more. */
  #consumerFull = false;
  /** `COPY n` from CommandComplete. */
  #reportedRows: number | undefined;

  /**
   * `text` is the whole `COPY (…) TO STDOUT (FORMAT csv)` statement. `onChunk` gets the totals so
   * far after each socket chunk.
   */
  constructor(text: string, what: string, onChunk: (rows: number, bytes: number) => void) {
    super();
    this.#text = text;
    this.#what = what;
    this.#frames = new CopyOutFrames(what);
    this.#onChunk = onChunk;
  }

  /** CopyData messages so far: at the end, the rows of the COPY (checked against `COPY n`). */
  get rows(): number {
    return this.#frames.rows;
  }

  /** CSV bytes so far. */
  get bytes(): number {
    return this.#frames.bytes;
  }

  /** Called by the client when the connection is idle. An Error returned is handed to `handleError`. */
  submit(connection: pg.Connection): Error | undefined {
    // Abandoned while queued: the client moves on to its next query.
    if (this.destroyed) return new Error(`${this.#what}: the COPY was abandoned before it started`);
    const socket = connection.stream;
    const listeners = socket.listeners('data') as DataListener[];
    const parser = listeners[0];
    if (listeners.length !== 1 || parser === undefined) {
      return new EtlError(
        'INTERNAL',
        `${this.#what}: the pg connection's socket has ${listeners.length} data listeners where postgres-copy-out.ts expects pg's parser alone`,
      );
    }
    socket.removeListener('data', parser);
    socket.on('data', this.#onData);
    this.#socket = socket;
    this.#parser = parser;
    connection.query(this.#text);
    return undefined;
  }

  readonly #onData = (chunk: Buffer): void => {
    let length: number;
    try {
      length = this.#frames.strip(chunk);
    } catch (error) {
      this.destroy(error instanceof Error ? error : new Error(String(error)));
      return;
    }
    if (length > 0 && !this.push(chunk.subarray(0, length))) this.#consumerFull = true;
    this.#onChunk(this.#frames.rows, this.#frames.bytes);
    const rest = this.#frames.rest;
    if (rest !== undefined) this.#handBack(rest);
    else this.#updateFlow();
  };

  override _read(): void {
    this.#consumerFull = false;
    this.#updateFlow();
  }

  /** The socket is read while the consumer wants more. */
  #updateFlow(): void {
    const socket = this.#socket;
    if (socket === undefined) return;
    const pause = this.#consumerFull;
    if (pause === this.#paused) return;
    this.#paused = pause;
    if (pause) socket.pause();
    else socket.resume();
  }

  /** Puts pg's parser back on the socket and gives it `rest`, the bytes from the COPY's end on. */
  #handBack(rest: Buffer): void {
    const socket = this.#socket;
    const parser = this.#parser;
    this.#detach();
    if (socket === undefined || parser === undefined) return;
    socket.on('data', parser);
    // pg never pauses its socket: whatever this stream's consumer wants, the few messages left
    // (CommandComplete, ReadyForQuery) must be read.
    socket.resume();
    parser(rest);
  }

  #detach(): void {
    this.#socket?.removeListener('data', this.#onData);
    this.#socket = undefined;
    this.#parser = undefined;
    this.#paused = false;
  }

  handleCommandComplete(message: CommandComplete): void {
    const match = typeof message.text === 'string' ? /^COPY (\d+)$/.exec(message.text) : null;
    if (match?.[1] !== undefined) this.#reportedRows = Number(match[1]);
  }

  handleReadyForQuery(): void {
    if (this.destroyed) return;
    const counted = this.#frames.rows;
    if (this.#reportedRows !== counted) {
      this.destroy(
        new EtlError(
          'INTERNAL',
          `${this.#what}: the server reported ${this.#reportedRows ?? 'no'} rows for the COPY, ${counted} arrived`,
        ),
      );
      return;
    }
    this.push(null);
  }

  /** An ErrorResponse (from pg's parser), a lost connection, or a refused `submit`. */
  handleError(error: Error): void {
    // Still reading the COPY here means the connection is gone: `_destroy` drops it for good.
    this.destroy(error);
  }

  // A COPY TO answers with none of these; pg routes them here should a server do it anyway.
  handleRowDescription(): void {
    this.#unexpected('RowDescription');
  }
  handleDataRow(): void {
    this.#unexpected('DataRow');
  }
  handlePortalSuspended(): void {
    this.#unexpected('PortalSuspended');
  }
  handleEmptyQuery(): void {
    this.#unexpected('EmptyQueryResponse');
  }
  handleCopyInResponse(): void {
    this.#unexpected('CopyInResponse');
  }
  handleCopyData(): void {
    this.#unexpected('CopyData after the COPY ended');
  }

  #unexpected(message: string): void {
    this.destroy(new EtlError('INTERNAL', `${this.#what}: the COPY was answered with ${message}`));
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    const socket = this.#socket;
    if (socket !== undefined) {
      // Destroyed mid-COPY (the sink failed, the connection was lost, a protocol surprise): the
      // rest of the COPY would be left unread on a connection that cannot run another query
      // before it is read. Cutting the connection ends the query on the server as well.
      this.#detach();
      socket.destroy();
    }
    callback(error);
  }
}
