import { PassThrough, Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { JournalSink } from '../../daemon/logging/journal-sink.js';
import { FanoutLogger } from '../../daemon/logging/logger.js';
import { redact } from '../../daemon/logging/redact.js';

function capture(): { out: PassThrough; lines: () => string[] } {
  const out = new PassThrough();
  const chunks: string[] = [];
  out.on('data', (chunk: Buffer) => chunks.push(chunk.toString('utf8')));
  return {
    out,
    lines: () =>
      chunks
        .join('')
        .split('\n')
        .filter((l) => l !== ''),
  };
}

describe('JournalSink text format', () => {
  it('prefixes every line with the sd-daemon priority of its level', () => {
    const { out, lines } = capture();
    const logger = new FanoutLogger([new JournalSink(out)]);
    logger.error('e');
    logger.warning('w');
    logger.notice('n');
    logger.info('i');
    logger.debug('d');
    expect(lines()).toEqual(['<3>e', '<4>w', '<5>n', '<6>i', '<7>d']);
  });

  it('carries pipeline and run id, then fields in logfmt, on one line', () => {
    const { out, lines } = capture();
    const logger = new FanoutLogger([new JournalSink(out)]).child({
      pipeline: 'orders',
      runId: 'orders-12-1',
    });
    logger.info('Run started', { attempt: 1, trigger: 'schedule', note: 'two words' });
    logger.error('boom\nstack line 2');
    expect(lines()).toEqual([
      '<6>pipeline=orders run=orders-12-1 Run started attempt=1 trigger=schedule note="two words"',
      '<3>pipeline=orders run=orders-12-1 boom\\nstack line 2',
    ]);
  });

  it('drops lines below its level', () => {
    const { out, lines } = capture();
    const logger = new FanoutLogger([new JournalSink(out, { level: 'notice' })]);
    logger.info('hidden');
    logger.debug('hidden too');
    logger.notice('shown');
    expect(lines()).toEqual(['<5>shown']);
  });
});

describe('JournalSink JSON format', () => {
  it('writes one object per line with ts, level, priority, pipeline, run_id and fields', () => {
    const { out, lines } = capture();
    const logger = new FanoutLogger([new JournalSink(out, { format: 'json' })]);
    logger.warning('Shard slow', { pipeline: 'orders', runId: 'orders-3-2', shard: 's1', rows: 10 });
    logger.info('daemon up');
    const [first, second] = lines().map((l) => JSON.parse(l));
    expect(first).toMatchObject({
      level: 'warning',
      priority: 4,
      pipeline: 'orders',
      run_id: 'orders-3-2',
      message: 'Shard slow',
      fields: { shard: 's1', rows: 10 },
    });
    expect(Number.isNaN(Date.parse(first.ts))).toBe(false);
    expect(second).toMatchObject({
      level: 'info',
      priority: 6,
      pipeline: null,
      run_id: null,
      message: 'daemon up',
    });
    expect(second.fields).toBeUndefined();
  });
});

describe('secret redaction', () => {
  it('masks URL passwords, password pairs, bearer tokens and secret-named fields', () => {
    const { out, lines } = capture();
    const logger = new FanoutLogger([new JournalSink(out, { format: 'json' })]);
    logger.error(
      'connect postgres://etl:s3cr3t@db1:5432/shop failed; dsn host=db1 password=hunter2 user=etl',
      {
        password: 'plain-field',
        smtp_token: 'abc',
        header: 'Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.payload.sig',
      },
    );
    const text = lines().join('\n');
    for (const secret of ['s3cr3t', 'hunter2', 'plain-field', 'abc"', 'eyJhbGciOiJIUzI1NiJ9'])
      expect(text).not.toContain(secret);
    const record = JSON.parse(lines()[0]!);
    expect(record.message).toBe(
      'connect postgres://etl:***@db1:5432/shop failed; dsn host=db1 password=*** user=etl',
    );
    expect(record.fields).toEqual({
      password: '***',
      smtp_token: '***',
      header: 'Authorization: Bearer ***',
    });
  });

  it('leaves ordinary text alone and handles JSON dumps and quoted values', () => {
    expect(redact('password authentication failed for user "etl"')).toBe(
      'password authentication failed for user "etl"',
    );
    expect(redact('password_env=SHOP_DB_PASSWORD missing')).toBe('password_env=SHOP_DB_PASSWORD missing');
    expect(redact('{"user":"etl","password":"p\\"w"}')).toBe('{"user":"etl","password":"***"}');
    expect(redact("pwd='a b c' next")).toBe('pwd=*** next');
    expect(redact('mysql://root:pw@127.0.0.1/db and https://example.com/x')).toBe(
      'mysql://root:***@127.0.0.1/db and https://example.com/x',
    );
  });
});

describe('JournalSink on a stuck stream', () => {
  it('drops and counts lines instead of buffering without bound, then reports the count', () => {
    const written: string[] = [];
    let release: (() => void) | undefined;
    const out = new Writable({
      highWaterMark: 16,
      write(chunk: Buffer, _enc, callback) {
        written.push(chunk.toString());
        // Hold the first write until released: everything after queues in writableLength.
        if (!release) release = () => callback();
        else callback();
      },
    });
    const sink = new JournalSink(out, { maxBufferedBytes: 100 });
    const logger = new FanoutLogger([sink]);
    for (let i = 0; i < 50; i++) logger.info(`line number ${i} with some padding`);
    expect(sink.dropped).toBeGreaterThan(0);
    const dropped = sink.dropped;
    release!();
    logger.info('after');
    const all = written.join('');
    expect(all).toContain(`<4>${dropped} log lines dropped: stdout was not draining`);
    expect(all.endsWith('<6>after\n')).toBe(true);
  });

  it('survives a stream that errors (EPIPE) without throwing', () => {
    const out = new Writable({ write: (_c, _e, cb) => cb(new Error('EPIPE')) });
    const logger = new FanoutLogger([new JournalSink(out)]);
    expect(() => {
      logger.info('one');
      logger.info('two');
    }).not.toThrow();
  });
});
