import { appendFileSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EtlError } from '../../shared/errors.js';
import type { LogRecord, LogSink } from '../../daemon/logging/logger.js';
import type { LogLevel } from '../../shared/logs/log-record.js';
import { readLogs } from '../../shared/logs/log-reader.js';
import { createLogFilter } from '../../daemon/logging/log-filter.js';
import { PipelineFileSink } from '../../daemon/logging/pipeline-file-sink.js';
import { recordToLogLine } from '../../daemon/logging/log-codec.js';

const T0 = Date.parse('2026-03-01T00:00:00.000Z');
const iso = (i: number): string => new Date(T0 + i * 1000).toISOString();
let logDir: string;

function record(
  i: number,
  pipeline: string | null,
  level: LogLevel,
  runId: string | null,
  message: string,
  fields: LogRecord['fields'] = {},
): LogRecord {
  return { ts: new Date(T0 + i * 1000), level, message, pipeline, runId, fields };
}

const nowhere: LogSink = { write: () => undefined };

beforeAll(async () => {
  logDir = mkdtempSync(join(tmpdir(), 'etld-reader-'));
  // Small files so the 3,000 lines of `orders` span many gzipped generations.
  const sink = new PipelineFileSink({
    logDir,
    maxSize: 16 * 1024,
    maxAgeMs: 86_400_000,
    keep: 1000,
    totalMaxSize: 1024 ** 3,
    compress: true,
    fallback: nowhere,
  });
  for (let i = 0; i < 3000; i++) {
    const run = `orders-${Math.floor(i / 1000) + 1}-1`;
    const level: LogLevel = i % 100 === 99 ? 'error' : i % 50 === 0 ? 'warning' : 'info';
    sink.write(record(i, 'orders', level, run, `orders line ${i}`, { shard: i % 2 === 0 ? 's1' : 's2' }));
    if (i % 10 === 5) sink.write(record(i, 'billing', 'info', 'billing-1-1', `billing line ${i}`));
    if (i % 500 === 7) sink.write(record(i, null, 'notice', null, `daemon line ${i}`));
  }
  await sink.close();
  // A torn last line (a crash mid-write) must be skipped, not break the reader.
  appendFileSync(join(logDir, 'orders', 'output.log'), '{"ts":"2026-03-01T01:00:00.000Z","lev');
});
afterAll(() => rmSync(logDir, { recursive: true, force: true }));

describe('readLogs', () => {
  it('really reads across gzipped generations', () => {
    expect(readdirSync(join(logDir, 'orders')).filter((n) => n.endsWith('.gz')).length).toBeGreaterThan(5);
  });

  it('returns the newest N lines of a pipeline, oldest first', async () => {
    const lines = await readLogs(logDir, { pipeline: 'orders', lines: 5 });
    expect(lines.map((l) => l.message)).toEqual(
      [2995, 2996, 2997, 2998, 2999].map((i) => `orders line ${i} shard=${i % 2 === 0 ? 's1' : 's2'}`),
    );
    expect(lines[0]).toEqual({
      ts: iso(2995),
      level: 'info',
      pipeline: 'orders',
      run_id: 'orders-3-1',
      message: 'orders line 2995 shard=s2',
    });
  });

  it('returns every line when N is larger than the history', async () => {
    const lines = await readLogs(logDir, { pipeline: 'orders', lines: 100_000 });
    expect(lines).toHaveLength(3000);
    expect(lines.every((l, i) => l.message.startsWith(`orders line ${i} `))).toBe(true);
  });

  it('filters by run across generations', async () => {
    const lines = await readLogs(logDir, { pipeline: 'orders', lines: 100_000, runId: 'orders-1-1' });
    expect(lines).toHaveLength(1000);
    expect(lines[0]!.message).toMatch(/^orders line 0 /);
    expect(lines.at(-1)!.message).toMatch(/^orders line 999 /);
  });

  it('filters errors only (error and warning lines, from error.log)', async () => {
    const lines = await readLogs(logDir, { pipeline: 'orders', lines: 1000, errorsOnly: true });
    const expected = Array.from({ length: 3000 }, (_, i) => i).filter((i) => i % 100 === 99 || i % 50 === 0);
    expect(lines.map((l) => Number(l.message.split(' ')[2]))).toEqual(expected);
    expect(new Set(lines.map((l) => l.level))).toEqual(new Set(['error', 'warning']));
  });

  it('filters by since and grep (message and fields), combined with the line limit', async () => {
    const since = await readLogs(logDir, { pipeline: 'orders', lines: 100_000, since: iso(2990) });
    expect(since.map((l) => l.ts)).toEqual(Array.from({ length: 10 }, (_, k) => iso(2990 + k)));
    const grep = await readLogs(logDir, { pipeline: 'orders', lines: 3, grep: 'line 1\\d{2}5 shard=s2$' });
    expect(grep.map((l) => l.message)).toEqual([
      'orders line 1975 shard=s2',
      'orders line 1985 shard=s2',
      'orders line 1995 shard=s2',
    ]);
    const combined = await readLogs(logDir, {
      pipeline: 'orders',
      lines: 100,
      since: iso(1000),
      runId: 'orders-2-1',
      errorsOnly: true,
      grep: '99 ',
    });
    expect(combined.map((l) => l.message)).toEqual(
      Array.from({ length: 10 }, (_, k) => `orders line ${1099 + k * 100} shard=s2`),
    );
  });

  it('merges all pipelines and daemon lines by time when no pipeline is given', async () => {
    const lines = await readLogs(logDir, { lines: 6, since: iso(2500) });
    // Same-second lines keep directory order (billing before orders): the merge is stable.
    expect(lines.map((l) => [l.pipeline, l.ts])).toEqual([
      ['billing', iso(2995)],
      ['orders', iso(2995)],
      ['orders', iso(2996)],
      ['orders', iso(2997)],
      ['orders', iso(2998)],
      ['orders', iso(2999)],
    ]);
    const daemon = await readLogs(logDir, { pipeline: 'etld', lines: 100 });
    expect(daemon.map((l) => l.message)).toEqual(
      [7, 507, 1007, 1507, 2007, 2507].map((i) => `daemon line ${i}`),
    );
    expect(daemon.every((l) => l.pipeline === null && l.level === 'notice')).toBe(true);
  });

  it('returns nothing for an unknown pipeline or zero lines, and rejects bad queries', async () => {
    expect(await readLogs(logDir, { pipeline: 'nope', lines: 10 })).toEqual([]);
    expect(await readLogs(logDir, { pipeline: 'orders', lines: 0 })).toEqual([]);
    await expect(readLogs(logDir, { lines: 10, grep: '(' })).rejects.toMatchObject({ code: 'USAGE' });
    await expect(readLogs(logDir, { lines: 10, since: 'yesterday' })).rejects.toBeInstanceOf(EtlError);
    await expect(readLogs(logDir, { pipeline: '../etc', lines: 10 })).rejects.toMatchObject({
      code: 'USAGE',
    });
  });
});

describe('createLogFilter (follow)', () => {
  it('applies the same options to live records', () => {
    const filter = createLogFilter({ pipeline: 'orders', errorsOnly: true, grep: 'timeout' });
    expect(filter(record(1, 'orders', 'error', 'orders-4-1', 'source timeout', { host: 'db1' }))).toEqual({
      ts: iso(1),
      level: 'error',
      pipeline: 'orders',
      run_id: 'orders-4-1',
      message: 'source timeout host=db1',
    });
    expect(filter(record(1, 'orders', 'info', 'orders-4-1', 'source timeout'))).toBeUndefined();
    expect(filter(record(1, 'billing', 'error', null, 'source timeout'))).toBeUndefined();
    expect(filter(record(1, 'orders', 'error', null, 'disk full'))).toBeUndefined();
    const byRun = createLogFilter({ runId: 'r-1' });
    expect(byRun(record(1, 'x', 'debug', 'r-1', 'a'))?.message).toBe('a');
    expect(byRun(record(1, 'x', 'debug', 'r-2', 'a'))).toBeUndefined();
    expect(createLogFilter({})(record(1, null, 'info', null, 'password=abc'))?.message).toBe('password=***');
    expect(() => createLogFilter({ grep: '[' })).toThrow(EtlError);
  });
});

describe('recordToLogLine', () => {
  it('gives a live record exactly the line readLogs returns for it from the files', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'etld-same-'));
    const sink = new PipelineFileSink({
      logDir: dir,
      maxSize: 1e6,
      maxAgeMs: 1e9,
      keep: 3,
      totalMaxSize: 1e8,
      compress: true,
      fallback: nowhere,
    });
    const live = record(5, 'orders', 'warning', 'orders-1-1', 'retrying postgres://u:pw@h/db', {
      attempt: 2,
      note: 'a b',
    });
    sink.write(live);
    await sink.close();
    const [fromFile] = await readLogs(dir, { pipeline: 'orders', lines: 1 });
    expect(recordToLogLine(live)).toEqual(fromFile);
    expect(fromFile!.message).toBe('retrying postgres://u:***@h/db attempt=2 note="a b"');
    rmSync(dir, { recursive: true, force: true });
  });
});
