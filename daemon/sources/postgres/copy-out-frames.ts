/**
 * The framing of a COPY OUT response removed in bulk: each socket chunk's CopyData payloads are
 * moved to the chunk's start in place (one `copyWithin` per message, no allocation), so what the
 * sink gets is the CSV text itself. PostgreSQL sends one CopyData message per row of CSV COPY
 * output, so counting messages counts rows exactly, whatever the values hold (quoted newlines).
 *
 * The stripper owns only the messages of the COPY itself (CopyOutResponse, CopyData) and those the
 * server may send in the middle of any response (NoticeResponse, ParameterStatus,
 * NotificationResponse; dropped, as pg-copy-streams dropped them). The first other message
 * (CopyDone, ErrorResponse, …) ends its part: that message and every byte after it are left for
 * node-postgres' own parser (see postgres-copy-out.ts).
 *
 * Messages split anywhere across chunks are handled: a header cut short is kept (5 bytes at most),
 * a payload cut short continues at the start of the next chunk.
 *
 * Byte reads use `!`: every index is checked against the chunk's length first.
 */
import { EtlError } from '../../../shared/errors.js';

const COPY_DATA = 0x64; // 'd'
const COPY_OUT_RESPONSE = 0x48; // 'H'
const NOTICE_RESPONSE = 0x4e; // 'N'
const PARAMETER_STATUS = 0x53; // 'S'
const NOTIFICATION_RESPONSE = 0x41; // 'A'

/** Type byte and an int32 length that counts itself but not the type byte. */
const HEADER_BYTES = 5;
const LENGTH_BYTES = 4;

function isOurs(type: number): boolean {
  return (
    type === COPY_DATA ||
    type === COPY_OUT_RESPONSE ||
    type === NOTICE_RESPONSE ||
    type === PARAMETER_STATUS ||
    type === NOTIFICATION_RESPONSE
  );
}

export class CopyOutFrames {
  /** CopyData messages begun so far: rows, in CSV COPY output. */
  rows = 0;
  /** Payload bytes returned by `strip` so far. */
  bytes = 0;
  /**
   * Once a message that is not ours has begun: its bytes and all that followed it in the chunk,
   * for node-postgres' parser. `strip` must not be called after that.
   */
  rest: Buffer | undefined;
  /** Payload bytes of the current message still to come in later chunks. */
  #remaining = 0;
  /** Whether those bytes are row text (CopyData) or skipped (another message of ours). */
  #remainingIsRow = false;
  /** The first bytes of a header that the previous chunk cut short. */
  readonly #header = Buffer.alloc(HEADER_BYTES);
  #headerBytes = 0;
  readonly #what: string;

  constructor(what: string) {
    this.#what = what;
  }

  /**
   * Moves the row text of `chunk` to its start, in place, and returns its length: the row text is
   * `chunk.subarray(0, n)`. Stops at the first message that is not ours (see `rest`).
   */
  strip(chunk: Buffer): number {
    const end = chunk.length;
    let read = 0;
    let write = 0;
    let rows = 0;
    if (this.#remaining > 0) {
      // The rest of a message begun in an earlier chunk: row text that is already in place.
      read = Math.min(this.#remaining, end);
      this.#remaining -= read;
      if (this.#remainingIsRow) write = read;
    }
    while (read < end) {
      let type: number;
      let length: number;
      if (this.#headerBytes === 0 && read + HEADER_BYTES <= end) {
        type = chunk[read]!;
        if (!isOurs(type)) {
          this.rest = chunk.subarray(read);
          break;
        }
        length = chunk.readUInt32BE(read + 1);
        read += HEADER_BYTES;
      } else {
        const taken = Math.min(HEADER_BYTES - this.#headerBytes, end - read);
        chunk.copy(this.#header, this.#headerBytes, read, read + taken);
        this.#headerBytes += taken;
        read += taken;
        if (this.#headerBytes < HEADER_BYTES) break;
        this.#headerBytes = 0;
        type = this.#header[0]!;
        if (!isOurs(type)) {
          this.rest = Buffer.concat([this.#header, chunk.subarray(read)]);
          break;
        }
        length = this.#header.readUInt32BE(1);
      }
      if (length < LENGTH_BYTES) {
        // Not something a server sends: this reader is out of step with the protocol.
        throw new EtlError(
          'INTERNAL',
          `${this.#what}: a COPY message of type ${type} declares ${length} bytes, less than its own length field`,
        );
      }
      const payload = length - LENGTH_BYTES;
      const stop = Math.min(read + payload, end);
      if (type === COPY_DATA) {
        rows++;
        if (write !== read) chunk.copyWithin(write, read, stop);
        write += stop - read;
        this.#remainingIsRow = true;
      } else {
        this.#remainingIsRow = false;
      }
      this.#remaining = payload - (stop - read);
      read = stop;
    }
    this.rows += rows;
    this.bytes += write;
    return write;
  }
}
