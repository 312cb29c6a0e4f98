import { once } from 'node:events';
import { Writable } from 'node:stream';
import { describe, expect, test } from 'vitest';
import { CsvChunkWriter } from '../../daemon/sources/csv-chunk-writer.js';

/** A sink that keeps every chunk; `delay` holds each write's callback for a turn of the event loop. */
function collectingSink(highWaterMark: number, delay: boolean): { sink: Writable; chunks: Buffer[] } {
  const chunks: Buffer[] = [];
  const sink = new Writable({
    highWaterMark,
    write(chunk: Buffer, _encoding, callback) {
      chunks.push(chunk);
      if (delay) setImmediate(callback);
      else callback();
    },
  });
  return { sink, chunks };
}

function writeRow(writer: CsvChunkWriter, line: Buffer): void {
  const out = writer.room(line.length);
  line.copy(out, writer.position);
  writer.endRow(writer.position + line.length);
}

describe('CsvChunkWriter', () => {
  test('fills chunks up to their size, flushes before a row that might not fit, and counts rows and bytes', async () => {
    const { sink, chunks } = collectingSink(1 << 20, false);
    const writer = new CsvChunkWriter(sink, { pause: () => undefined, resume: () => undefined }, 100);
    const line = Buffer.from('0123456789abcdefghi\n'); // 20 bytes
    for (let i = 0; i < 12; i++) writeRow(writer, line);
    expect(writer.bytes).toBe(200);
    writer.flush();
    sink.end();
    await once(sink, 'finish');
    expect(chunks.map((c) => c.length)).toEqual([100, 100, 40]);
    expect(writer.rows).toBe(12);
    expect(writer.bytes).toBe(240);
    expect(Buffer.concat(chunks).equals(Buffer.concat(Array.from({ length: 12 }, () => line)))).toBe(true);
  });

  test('a row larger than a chunk goes out in a chunk of its own', async () => {
    const { sink, chunks } = collectingSink(1 << 20, false);
    const writer = new CsvChunkWriter(sink, { pause: () => undefined, resume: () => undefined }, 64);
    writeRow(writer, Buffer.from('small\n'));
    writeRow(writer, Buffer.from(`${'x'.repeat(300)}\n`));
    writeRow(writer, Buffer.from('after\n'));
    writer.flush();
    sink.end();
    await once(sink, 'finish');
    expect(chunks.map((c) => c.length)).toEqual([6, 301, 6]);
  });

  test('pauses the producer while the sink is full and resumes it on drain', async () => {
    const { sink, chunks } = collectingSink(16, true);
    const events: string[] = [];
    const writer = new CsvChunkWriter(
      sink,
      { pause: () => events.push('pause'), resume: () => events.push('resume') },
      32,
    );
    let producedWhilePaused = 0;
    for (let i = 0; i < 10; i++) {
      if (events.at(-1) === 'pause') {
        producedWhilePaused++;
        await once(sink, 'drain');
      }
      writeRow(writer, Buffer.from(`${i},some text\n`));
    }
    writer.flush();
    if (sink.writableNeedDrain) await once(sink, 'drain');
    await new Promise<void>((resolve) => sink.end(resolve));
    expect(events[0]).toBe('pause');
    expect(producedWhilePaused).toBeGreaterThan(0);
    expect(events.filter((e) => e === 'pause').length).toBe(events.filter((e) => e === 'resume').length);
    expect(Buffer.concat(chunks).toString('utf8').split('\n').length).toBe(11);
  });

  test('end writes the last chunk without pausing the producer, even into a full sink (no drain would resume it)', async () => {
    const { sink, chunks } = collectingSink(16, true);
    const events: string[] = [];
    const writer = new CsvChunkWriter(
      sink,
      { pause: () => events.push('pause'), resume: () => events.push('resume') },
      1024,
    );
    sink.write(Buffer.from('already queued in the sink\n'));
    writeRow(writer, Buffer.from('last row, larger than the highWaterMark\n'));
    writer.end();
    await once(sink, 'finish');
    expect(events).toEqual([]);
    expect(chunks.length).toBe(2);
    expect(writer.bytes).toBe(chunks[1]?.length);
  });

  test('bytes that are not UTF-8 come out as U+FFFD, as decoding each value did', async () => {
    const { sink, chunks } = collectingSink(1 << 20, false);
    const writer = new CsvChunkWriter(sink, { pause: () => undefined, resume: () => undefined }, 1024);
    const cells = [
      Buffer.from([0x61, 0xff, 0x62]),
      Buffer.from([0xe2, 0x82]),
      Buffer.from('😀', 'utf8').subarray(0, 3),
    ];
    const line = Buffer.concat([
      cells[0]!,
      Buffer.from(','),
      cells[1]!,
      Buffer.from(','),
      cells[2]!,
      Buffer.from('\n'),
    ]);
    writeRow(writer, line);
    writer.flush();
    sink.end();
    await once(sink, 'finish');
    const perValue = `${cells.map((cell) => cell.toString('utf8')).join(',')}\n`;
    expect(Buffer.concat(chunks).equals(Buffer.from(perValue, 'utf8'))).toBe(true);
    expect(writer.bytes).toBe(Buffer.byteLength(perValue));
  });
});
