/**
 * Failure paths of the streamed extraction: each part's CSV flows through one FIFO per consumer
 * (DuckDB statements) while the source is still producing it. Whatever side fails — the staging
 * conversion, the source, the caller's abort, a consumer before it opens its pipe, one of two
 * consumers — the run must end with that error, promptly, and never hang on a pipe nobody reads
 * or writes.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { EtlError } from '../../shared/errors.js';
import type { ColumnSchema } from '../../shared/types.js';
import { extractAll, type ExtractTask, type PartConsumer } from '../../daemon/engine/extractor.js';
import { ProgressTracker } from '../../daemon/engine/progress-tracker.js';
import { Stager } from '../../daemon/engine/stager.js';
import type { ReadSession } from '../../daemon/sources/source.js';
import { nextEvent } from '../helpers/wait.js';

const columns: ColumnSchema[] = [
  { name: 'a', type: { kind: 'int64' }, nullable: true },
  { name: 'b', type: { kind: 'text' }, nullable: true },
];

/**
 * A source that writes `total` staging-CSV rows, optionally a bad value or a failure at a row; a
 * failure can leave a row cut short (`cutRow`), as a connection lost mid-row does.
 */
function fakeSession(options: {
  total: number;
  badAt?: number;
  failAt?: number;
  cutRow?: string;
}): ReadSession {
  return {
    consistent: true,
    readers: 1,
    close: () => Promise.resolve(),
    async extract(_sql: string, _columns: readonly ColumnSchema[], sink: Writable, signal: AbortSignal) {
      let rows = 0;
      try {
        for (let i = 0; i < options.total; i++) {
          if (signal.aborted) throw new EtlError('CANCELLED', 'the fake source was cancelled');
          if (options.failAt === i) {
            if (options.cutRow !== undefined) sink.write(options.cutRow);
            throw new EtlError('SOURCE_CONNECTION', `the fake source broke at row ${i}`);
          }
          const line = `${i === options.badAt ? 'zz' : String(i)},some text to fill the pipe\n`;
          if (!sink.write(line)) {
            await new Promise<void>((resolve) => {
              sink.once('drain', resolve);
              signal.addEventListener('abort', () => resolve(), { once: true });
            });
          }
          rows++;
        }
        await new Promise<void>((resolve) => sink.end(resolve));
        return { rows, bytes: 0 };
      } catch (error) {
        sink.destroy();
        throw error;
      }
    },
  };
}

let dir: string;
let stager: Stager;
beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'etld-streamed-'));
  stager = await Stager.open(dir, columns, { memoryLimit: '256MB', threads: 2 });
});
afterAll(() => {
  stager.close();
  rmSync(dir, { recursive: true, force: true });
});

/** The consumer the tests use by default: the part's rows into `raw`. */
function intoRaw(name = 'raw'): (part: string) => PartConsumer {
  return (part) => ({
    name,
    run: async (path) => {
      const connection = await stager.connect();
      try {
        return await stager.insertRaw(
          connection,
          part,
          await stager.typedSelect(connection, 's', part, [path]),
        );
      } finally {
        connection.closeSync();
      }
    },
  });
}

async function rawRows(): Promise<number> {
  const reader = await stager.connection.runAndReadAll('SELECT count(*)::INTEGER FROM raw');
  return Number(reader.getRows()[0]?.[0] ?? 0);
}

function tasks(
  label: string,
  count: number,
  consumers: readonly ((part: string) => PartConsumer)[],
): ExtractTask[] {
  return Array.from({ length: count }, (_, k) => ({
    id: `${label}/${k}`,
    shard: 's',
    hostKey: 'h',
    sql: '',
    columns,
    spoolPath: join(dir, `${label}-${k}`),
    consumers: consumers.map((make) => make(`${label}/${k}`)),
  }));
}

async function run(
  label: string,
  session: ReadSession,
  options: {
    parts?: number;
    abortAfterMs?: number;
    consumers?: readonly ((part: string) => PartConsumer)[];
    controller?: AbortController;
  } = {},
) {
  const controller = options.controller ?? new AbortController();
  if (options.abortAfterMs !== undefined)
    setTimeout(() => controller.abort(new Error('stop')), options.abortAfterMs);
  return extractAll(
    tasks(label, options.parts ?? 1, options.consumers ?? [intoRaw()]),
    new Map([['s', session]]),
    {
      parallelism: options.parts ?? 1,
      governor: { acquire: () => Promise.resolve(() => undefined) },
      signal: controller.signal,
      tracker: new ProgressTracker(`run-${label}`, null, () => new Date()),
      consumerSlots: 2,
    },
  );
}

describe('streamed extraction into staging', () => {
  test('three parts (two streamed, one spooled and read after) stage every row', async () => {
    const before = await rawRows();
    const totals = await run('ok', fakeSession({ total: 50_000 }), { parts: 3 });
    expect([...totals.values()].map((t) => t.rows)).toEqual([50_000, 50_000, 50_000]);
    expect([...totals.values()].map((t) => t.consumed)).toEqual([[50_000], [50_000], [50_000]]);
    expect((await rawRows()) - before).toBe(150_000);
  });

  test("two consumers of one part each receive every byte (the tee), at the slower one's pace", async () => {
    const before = await rawRows();
    const totals = await run('tee', fakeSession({ total: 300_000 }), {
      parts: 2,
      consumers: [intoRaw('first'), intoRaw('second')],
    });
    expect([...totals.values()].map((t) => t.consumed)).toEqual([
      [300_000, 300_000],
      [300_000, 300_000],
    ]);
    expect((await rawRows()) - before).toBe(1_200_000);
  });

  test('one of two consumers failing mid-stream fails the part with its error, without hanging', async () => {
    const failing = (part: string): PartConsumer => ({
      name: 'failing',
      run: async (path) => {
        const connection = await stager.connect();
        try {
          const typed = await stager.typedSelect(connection, 's', part, [path]);
          return await stager.insertRaw(
            connection,
            part,
            `SELECT * FROM (${typed}) WHERE CASE WHEN a = 150000 THEN error('etld[TRANSFORM_INVALID]: consumer two gave up') ELSE true END`,
          );
        } finally {
          connection.closeSync();
        }
      },
    });
    await expect(
      run('tee-fail', fakeSession({ total: 400_000 }), { consumers: [intoRaw(), failing] }),
    ).rejects.toMatchObject({ code: 'TRANSFORM_INVALID', message: 'consumer two gave up' });
  });

  test('a bad value mid-stream fails with the column and the value named, without hanging', async () => {
    await expect(run('bad', fakeSession({ total: 400_000, badAt: 200_000 }))).rejects.toThrow(
      /part bad\/0 row 200001: column "a" holds a value that is not a valid int64/,
    );
  });

  test('a source failing mid-stream reports the source error', async () => {
    await expect(run('srcfail', fakeSession({ total: 400_000, failAt: 150_000 }))).rejects.toMatchObject({
      code: 'SOURCE_CONNECTION',
      message: expect.stringMatching(/broke at row 150000/),
    });
  });

  test('a source cut mid-row reports the lost connection, not the cut row as bad data', async () => {
    // The cut row's first value does not convert: the stage fails on it only because the source
    // stopped mid-row, so the part must fail retryably, as the connection loss it is.
    await expect(
      run('cut', fakeSession({ total: 400_000, failAt: 150_000, cutRow: 'zz,some te' })),
    ).rejects.toMatchObject({ code: 'SOURCE_CONNECTION', retryable: true });
  });

  test('an abort mid-stream cancels and releases the waiting insert', async () => {
    await expect(
      run('abort', fakeSession({ total: 5_000_000 }), { abortAfterMs: 200 }),
    ).rejects.toMatchObject({ code: 'CANCELLED' });
  });

  test('an abort before the stage has opened the pipe cancels too', async () => {
    const controller = new AbortController();
    const abort = nextEvent<Event>((listener) => {
      controller.signal.addEventListener('abort', listener);
      return () => controller.signal.removeEventListener('abort', listener);
    }, 'the abort');
    await expect(
      run('abort-early', fakeSession({ total: 1_000 }), {
        controller,
        abortAfterMs: 50,
        consumers: [
          (part) => ({
            name: 'late',
            // A stage that opens its pipe only once the run has been aborted.
            run: async (path) => {
              await abort;
              return intoRaw()(part).run(path);
            },
          }),
        ],
      }),
    ).rejects.toMatchObject({ code: 'CANCELLED' });
  });

  test('a stage that fails before opening the pipe reports its own error', async () => {
    await expect(
      run('stage-fails', fakeSession({ total: 1_000 }), {
        consumers: [
          () => ({
            name: 'gone',
            run: () => Promise.reject(new EtlError('SOURCE_DATA', 'the staging database is gone')),
          }),
        ],
      }),
    ).rejects.toThrow(/the staging database is gone/);
  });
});
