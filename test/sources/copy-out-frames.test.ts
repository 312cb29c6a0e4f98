/**
 * CopyOutFrames against a model: seeded random COPY OUT responses (row messages of every size,
 * empty rows, notices and parameter-status messages in between, the end of the query after them)
 * cut into random chunks, down to one byte. What `strip` returns must be exactly the rows' bytes,
 * the row count exact, and the bytes from the first message that is not part of the data on
 * handed back untouched. A seed that fails is printed in the test name; add it to REGRESSION_SEEDS.
 */
import { describe, expect, test } from 'vitest';
import { CopyOutFrames } from '../../daemon/sources/postgres/copy-out-frames.js';
import { EtlError } from '../../shared/errors.js';
import { Prng, randomSeed } from '../chaos/prng.js';

const REGRESSION_SEEDS: readonly number[] = [1, 2, 3];

function message(type: string, payload: Buffer): Buffer {
  const header = Buffer.alloc(5);
  header.write(type, 0, 'latin1');
  header.writeUInt32BE(payload.length + 4, 1);
  return Buffer.concat([header, payload]);
}

function randomBytes(prng: Prng, length: number): Buffer {
  const bytes = Buffer.alloc(length);
  for (let i = 0; i < length; i++) bytes[i] = prng.int(0, 255);
  return bytes;
}

interface Response {
  readonly wire: Buffer;
  readonly rows: Buffer;
  readonly rowCount: number;
  /** Where the bytes that are not the COPY's (CopyDone onward) begin. */
  readonly tailAt: number;
}

function randomResponse(prng: Prng): Response {
  const parts: Buffer[] = [message('H', Buffer.from([0, 0, 2, 0, 0, 0, 0]))];
  const rows: Buffer[] = [];
  const count = prng.int(0, 300);
  for (let i = 0; i < count; i++) {
    if (prng.chance(0.05)) parts.push(message('N', Buffer.from(`SNOTICE\0Mrow ${i}\0\0`)));
    if (prng.chance(0.02)) parts.push(message('S', Buffer.from('application_name\0x\0')));
    if (prng.chance(0.01)) parts.push(message('A', randomBytes(prng, prng.int(0, 40))));
    // Mostly short rows; some empty; a few longer than a typical socket chunk.
    const length = prng.chance(0.03) ? prng.int(60_000, 200_000) : prng.chance(0.05) ? 0 : prng.int(1, 300);
    const row = randomBytes(prng, length);
    rows.push(row);
    parts.push(message('d', row));
  }
  const tailAt = parts.reduce((sum, part) => sum + part.length, 0);
  // The end of the query, as pg's parser will see it: CopyDone, CommandComplete, ReadyForQuery,
  // or an error in the middle of the rows.
  if (prng.chance(0.8)) {
    parts.push(message('c', Buffer.alloc(0)));
    parts.push(message('C', Buffer.from(`COPY ${count}\0`)));
  } else {
    parts.push(message('E', Buffer.from('SERROR\0C22012\0Mdivision by zero\0\0')));
  }
  parts.push(message('Z', Buffer.from('I')));
  return { wire: Buffer.concat(parts), rows: Buffer.concat(rows), rowCount: count, tailAt };
}

/** Cuts `wire` the way a socket might: many one-byte to few-byte pieces, and large ones. */
function randomChunks(prng: Prng, wire: Buffer): Buffer[] {
  const chunks: Buffer[] = [];
  for (let at = 0; at < wire.length;) {
    const size = prng.chance(0.3) ? prng.int(1, 7) : prng.int(1, 70_000);
    // Fresh copies: strip works in place, as it does on the socket's own buffers.
    chunks.push(Buffer.from(wire.subarray(at, at + size)));
    at += size;
  }
  return chunks;
}

function replay(chunks: readonly Buffer[]) {
  const frames = new CopyOutFrames('test');
  const out: Buffer[] = [];
  let handedBack: Buffer | undefined;
  for (const chunk of chunks) {
    if (handedBack !== undefined) {
      handedBack = Buffer.concat([handedBack, chunk]);
      continue;
    }
    const length = frames.strip(chunk);
    out.push(Buffer.from(chunk.subarray(0, length)));
    if (frames.rest !== undefined) handedBack = Buffer.from(frames.rest);
  }
  return { frames, text: Buffer.concat(out), handedBack };
}

function check(seed: number): void {
  const prng = new Prng(seed, 'copy-out-frames');
  for (let round = 0; round < 20; round++) {
    const response = randomResponse(prng);
    const { frames, text, handedBack } = replay(randomChunks(prng, response.wire));
    expect(text.equals(response.rows), `seed ${seed} round ${round}: row text`).toBe(true);
    expect(frames.rows, `seed ${seed} round ${round}: rows`).toBe(response.rowCount);
    expect(frames.bytes, `seed ${seed} round ${round}: bytes`).toBe(response.rows.length);
    expect(
      handedBack?.equals(response.wire.subarray(response.tailAt)),
      `seed ${seed} round ${round}: tail`,
    ).toBe(true);
  }
}

describe('CopyOutFrames', () => {
  for (const seed of REGRESSION_SEEDS) test(`regression seed ${seed}`, () => check(seed));
  const seed = randomSeed();
  test(`random seed ${seed}`, () => check(seed));

  test('every cut of a small response, including inside each header, gives the same result', () => {
    const rows = [Buffer.from('1,"a\nb"\n'), Buffer.alloc(0), Buffer.from('2,x\n')];
    const wire = Buffer.concat([
      message('H', Buffer.from([0, 0, 2, 0, 0, 0, 0])),
      ...rows.map((row) => message('d', row)),
      message('N', Buffer.from('SNOTICE\0Mhi\0\0')),
      message('c', Buffer.alloc(0)),
      message('Z', Buffer.from('I')),
    ]);
    // CopyDone (5 bytes) and ReadyForQuery (6) are pg's.
    const tail = wire.subarray(wire.length - 11);
    for (let first = 1; first < wire.length; first++) {
      for (let second = first + 1; second <= wire.length; second++) {
        const chunks = [wire.subarray(0, first), wire.subarray(first, second), wire.subarray(second)]
          .filter((c) => c.length > 0)
          .map((c) => Buffer.from(c));
        const { frames, text, handedBack } = replay(chunks);
        expect(text.toString()).toBe('1,"a\nb"\n2,x\n');
        expect(frames.rows).toBe(3);
        expect(handedBack?.equals(tail)).toBe(true);
      }
    }
  });

  test('a message shorter than its own length field is refused as a protocol error', () => {
    const frames = new CopyOutFrames('source "pg"');
    const bad = Buffer.from([0x64, 0, 0, 0, 2, 0x41]);
    expect(() => frames.strip(bad)).toThrow(EtlError);
    expect(() => new CopyOutFrames('source "pg"').strip(Buffer.from(bad))).toThrow(
      /less than its own length field/,
    );
  });
});
