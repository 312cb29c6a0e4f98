import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  rmSync,
  statSync,
  symlinkSync,
  unlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FanoutLogger, type LogRecord, type LogSink } from '../../daemon/logging/logger.js';
import { PipelineFileSink, type PipelineFileSinkOptions } from '../../daemon/logging/pipeline-file-sink.js';

let logDir: string;
beforeEach(() => {
  logDir = mkdtempSync(join(tmpdir(), 'etld-logs-'));
});
afterEach(() => {
  rmSync(logDir, { recursive: true, force: true });
});

class Collect implements LogSink {
  readonly records: LogRecord[] = [];
  write(record: LogRecord): void {
    this.records.push(record);
  }
}

function sinkWith(overrides: Partial<PipelineFileSinkOptions> = {}): PipelineFileSink {
  return new PipelineFileSink({
    logDir,
    maxSize: 10 * 1024 * 1024,
    maxAgeMs: 86_400_000,
    keep: 7,
    totalMaxSize: 1024 * 1024 * 1024,
    compress: true,
    fallback: new Collect(),
    ...overrides,
  });
}

/** Generation files of `base` in `dir`, oldest first, then the live file. */
function familyFiles(dir: string, base: string): string[] {
  const generations = readdirSync(dir)
    .filter((name) => name.startsWith(`${base}.`))
    .sort();
  return [...generations, ...(existsSync(join(dir, base)) ? [base] : [])].map((name) => join(dir, name));
}

function familyLines(dir: string, base: string): string[] {
  const lines: string[] = [];
  for (const file of familyFiles(dir, base)) {
    const raw = readFileSync(file);
    const text = (file.endsWith('.gz') ? gunzipSync(raw) : raw).toString('utf8');
    for (const line of text.split('\n')) if (line !== '') lines.push(line);
  }
  return lines;
}

const messages = (lines: string[]): string[] => lines.map((l) => JSON.parse(l).message as string);

function dirBytes(dir: string): number {
  let total = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (entry.isFile()) total += statSync(join(entry.parentPath, entry.name)).size;
  }
  return total;
}

describe('PipelineFileSink rotation', () => {
  it('keeps every line exactly once and in order across many rotations under a burst', async () => {
    const sink = sinkWith({ maxSize: 64 * 1024, keep: 1000 });
    const logger = new FanoutLogger([sink]).child({ pipeline: 'orders', runId: 'orders-1-1' });
    const total = 50_000;
    for (let i = 0; i < total; i++) logger.info(`line-${i}`, { i });
    await sink.close();

    const dir = join(logDir, 'orders');
    const files = familyFiles(dir, 'output.log');
    expect(files.length).toBeGreaterThan(50);
    // Every rotated generation was compressed and no temporary file is left behind.
    expect(files.slice(0, -1).every((f) => /\.log\.\d{6}\.gz$/.test(f))).toBe(true);
    expect(readdirSync(dir).some((n) => n.endsWith('.tmp'))).toBe(false);
    const got = messages(familyLines(dir, 'output.log'));
    expect(got.length).toBe(total);
    for (let i = 0; i < total; i++) if (got[i] !== `line-${i}`) throw new Error(`line ${i} is ${got[i]}`);
    // No live or rotated file is past max_size.
    for (const f of files.filter((f) => !f.endsWith('.gz')))
      expect(statSync(f).size).toBeLessThanOrEqual(64 * 1024);
    // error.log only exists for error/warning lines.
    expect(existsSync(join(dir, 'error.log'))).toBe(false);
  });

  it('keeps at most `keep` generations per file, the newest ones', async () => {
    const sink = sinkWith({ maxSize: 8 * 1024, keep: 3 });
    const logger = new FanoutLogger([sink]);
    for (let i = 0; i < 3000; i++) logger.info(`line-${i}`, { pipeline: 'billing' });
    await sink.close();
    const dir = join(logDir, 'billing');
    const generations = readdirSync(dir).filter((n) => n.startsWith('output.log.'));
    expect(generations.length).toBe(3);
    expect(generations.every((n) => n.endsWith('.gz'))).toBe(true);
    const got = messages(familyLines(dir, 'output.log'));
    const first = Number(got[0]!.slice(5));
    expect(first).toBeGreaterThan(0);
    expect(got).toEqual(Array.from({ length: 3000 - first }, (_, k) => `line-${first + k}`));
  });

  it('bounds the total size of the log directory by deleting the oldest generations', async () => {
    const sink = sinkWith({ maxSize: 8 * 1024, keep: 1000, totalMaxSize: 40 * 1024, compress: false });
    const logger = new FanoutLogger([sink]);
    for (let i = 0; i < 6000; i++) {
      logger.info(`a-${i}`, { pipeline: 'a' });
      if (i % 3 === 0) logger.error(`b-${i}`, { pipeline: 'b' });
    }
    await sink.close();
    expect(dirBytes(logDir)).toBeLessThanOrEqual(40 * 1024);
    // What is left of each file is a contiguous run of the newest lines.
    const a = messages(familyLines(join(logDir, 'a'), 'output.log'));
    expect(a.at(-1)).toBe('a-5999');
    const start = Number(a[0]!.slice(2));
    expect(a).toEqual(Array.from({ length: 6000 - start }, (_, k) => `a-${start + k}`));
    const bErrors = messages(familyLines(join(logDir, 'b'), 'error.log'));
    expect(bErrors.at(-1)).toBe('b-5997');
  });

  it('rotates by age on an injectable clock, also for a file left by a previous daemon', async () => {
    let now = Date.now();
    const day = 86_400_000;
    const sink = sinkWith({ maxAgeMs: day, now: () => now });
    const logger = new FanoutLogger([sink]).child({ pipeline: 'orders' });
    logger.info('monday');
    await sink.flush();
    now += day / 2;
    logger.info('monday evening');
    await sink.flush();
    now += day;
    logger.info('tuesday');
    await sink.close();
    const dir = join(logDir, 'orders');
    expect(readdirSync(dir).sort()).toEqual(['output.log', 'output.log.000001.gz']);
    expect(messages(familyLines(dir, 'output.log'))).toEqual(['monday', 'monday evening', 'tuesday']);

    // A new daemon finds output.log whose first line is older than max_age: the next write rotates
    // it, and numbering continues after the existing generation.
    now += 2 * day;
    const second = sinkWith({ maxAgeMs: day, now: () => now });
    new FanoutLogger([second]).info('thursday', { pipeline: 'orders' });
    await second.close();
    expect(readdirSync(dir).sort()).toEqual(['output.log', 'output.log.000001.gz', 'output.log.000002.gz']);
    expect(messages(familyLines(dir, 'output.log'))).toEqual([
      'monday',
      'monday evening',
      'tuesday',
      'thursday',
    ]);
  });

  it('writes daemon lines to etld/ and error/warning lines to error.log as well', async () => {
    const sink = sinkWith();
    const logger = new FanoutLogger([sink]);
    logger.info('daemon started');
    logger.warning('pipeline skipped', { pipeline: 'orders' });
    logger.error('escape attempt', { pipeline: '../../etc' });
    logger.debug('detail', { pipeline: 'orders' });
    await sink.close();
    expect(messages(familyLines(join(logDir, 'etld'), 'output.log'))).toEqual([
      'daemon started',
      'escape attempt',
    ]);
    expect(messages(familyLines(join(logDir, 'etld'), 'error.log'))).toEqual(['escape attempt']);
    expect(messages(familyLines(join(logDir, 'orders'), 'output.log'))).toEqual([
      'pipeline skipped',
      'detail',
    ]);
    expect(messages(familyLines(join(logDir, 'orders'), 'error.log'))).toEqual(['pipeline skipped']);
    const record = JSON.parse(familyLines(join(logDir, 'orders'), 'error.log')[0]!);
    expect(record).toMatchObject({ level: 'warning', priority: 4, pipeline: 'orders', run_id: null });
  });
});

describe('PipelineFileSink failures', () => {
  it('an unwritable pipeline directory gives one error line to the fallback, never throws, and recovers', async () => {
    let now = Date.now();
    const fallback = new Collect();
    const sink = sinkWith({ fallback, now: () => now, retryMs: 30_000 });
    const logger = new FanoutLogger([sink]);
    // A regular file where the pipeline's directory should be: mkdir fails even for root.
    writeFileSync(join(logDir, 'orders'), 'not a directory');
    expect(() => {
      for (let i = 0; i < 20; i++) {
        logger.info(`lost-${i}`, { pipeline: 'orders' });
        logger.error(`lost-error-${i}`, { pipeline: 'orders' });
        logger.info(`kept-${i}`, { pipeline: 'billing' });
      }
    }).not.toThrow();
    await sink.flush();
    now += 1000;
    logger.info('still lost', { pipeline: 'orders' });
    await sink.flush();
    expect(fallback.records).toHaveLength(1);
    expect(fallback.records[0]).toMatchObject({ level: 'error', pipeline: null });
    expect(fallback.records[0]!.message).toContain(join(logDir, 'orders', 'output.log'));
    expect(fallback.records[0]!.message).toMatch(/ENOTDIR|EEXIST/);
    // Other pipelines keep their files.
    expect(messages(familyLines(join(logDir, 'billing'), 'output.log'))).toHaveLength(20);

    unlinkSync(join(logDir, 'orders'));
    now += 31_000;
    logger.info('back', { pipeline: 'orders' });
    logger.error('back error', { pipeline: 'orders' });
    await sink.close();
    expect(fallback.records).toHaveLength(2);
    expect(fallback.records[1]).toMatchObject({ level: 'notice' });
    expect(fallback.records[1]!.message).toMatch(/writable again; \d+ lines were not written/);
    expect(messages(familyLines(join(logDir, 'orders'), 'output.log'))).toEqual(['back', 'back error']);
  });

  it('a full disk (ENOSPC) degrades with exactly one error line', async () => {
    const fallback = new Collect();
    const sink = sinkWith({ fallback });
    const dir = join(logDir, 'orders');
    mkdirSync(dir);
    // /dev/full accepts open() and fails every write with ENOSPC, like a full file system.
    symlinkSync('/dev/full', join(dir, 'output.log'));
    const logger = new FanoutLogger([sink]).child({ pipeline: 'orders', runId: 'orders-9-1' });
    expect(() => {
      for (let i = 0; i < 500; i++) logger.info(`row batch ${i}`);
    }).not.toThrow();
    await sink.flush();
    logger.info('one more');
    await sink.close();
    expect(fallback.records).toHaveLength(1);
    expect(fallback.records[0]!.message).toContain('ENOSPC');
  });
});

describe('PipelineFileSink after a crash', () => {
  it('terminates a torn last line so the next line stays readable', async () => {
    const dir = join(logDir, 'orders');
    mkdirSync(dir);
    writeFileSync(
      join(dir, 'output.log'),
      '{"ts":"2026-01-01T00:00:00.000Z","level":"info","message":"whole"}\n{"ts":"2026-01-01T00:00:01.0',
    );
    const sink = sinkWith();
    new FanoutLogger([sink]).info('after restart', { pipeline: 'orders' });
    await sink.close();
    const lines = familyLines(dir, 'output.log');
    expect(lines).toHaveLength(3);
    expect(JSON.parse(lines[0]!).message).toBe('whole');
    expect(() => JSON.parse(lines[1]!)).toThrow();
    expect(JSON.parse(lines[2]!).message).toBe('after restart');
  });
});
