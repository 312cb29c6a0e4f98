/**
 * journald's native protocol, checked by reading the datagrams a JournaldSink sends to a test
 * listener bound where /run/systemd/journal/socket would be, and decoding them as journald does.
 */
import { afterEach, describe, expect, it } from 'vitest';
import {
  JournaldSink,
  journalEntry,
  splitRunId,
  stdoutIsJournal,
} from '../../daemon/logging/journald-sink.js';
import { FanoutLogger, type LogRecord } from '../../daemon/logging/logger.js';
import { unixDatagramSender, type DatagramSender } from '../../daemon/observability/unix-datagram.js';
import { startDatagramReceiver, type DatagramReceiver } from './datagram-listener.js';

/** Decodes one native-protocol datagram into its fields (a field may repeat). */
function decode(payload: Buffer): Map<string, string[]> {
  const fields = new Map<string, string[]>();
  let offset = 0;
  while (offset < payload.length) {
    const newline = payload.indexOf(0x0a, offset);
    if (newline < 0) throw new Error(`unterminated field at ${offset}`);
    const line = payload.subarray(offset, newline).toString('utf8');
    let name: string;
    let value: string;
    const eq = line.indexOf('=');
    if (eq >= 0) {
      name = line.slice(0, eq);
      value = line.slice(eq + 1);
      offset = newline + 1;
    } else {
      name = line;
      const length = Number(payload.readBigUInt64LE(newline + 1));
      const start = newline + 9;
      value = payload.subarray(start, start + length).toString('utf8');
      if (payload[start + length] !== 0x0a)
        throw new Error(`field ${name}: no newline after its ${length} bytes`);
      offset = start + length + 1;
    }
    if (!/^[A-Z0-9][A-Z0-9_]{0,63}$/.test(name)) throw new Error(`field name journald refuses: "${name}"`);
    fields.set(name, [...(fields.get(name) ?? []), value]);
  }
  return fields;
}

function one(fields: Map<string, string[]>, name: string): string | undefined {
  const values = fields.get(name);
  if (values && values.length > 1) throw new Error(`${name} appears ${values.length} times`);
  return values?.[0];
}

let receiver: DatagramReceiver | undefined;
let sender: DatagramSender | undefined;
afterEach(() => {
  sender?.close();
  receiver?.close();
  sender = undefined;
  receiver = undefined;
});

describe('JournaldSink', () => {
  it('sends each line with PIPELINE, RUN_ID, ATTEMPT, ETLD_CODE and PRIORITY fields, so journalctl can filter one pipeline or run', async () => {
    receiver = startDatagramReceiver('journal.sock');
    sender = unixDatagramSender();
    const fallback: LogRecord[] = [];
    const sink = new JournaldSink({
      sender,
      socketPath: receiver.path,
      fallback: { write: (r) => fallback.push(r) },
    });
    const logger = new FanoutLogger([sink]);
    logger.error('run orders-12-3 failed after 3 attempt(s): SOURCE_CONNECTION: connect ECONNREFUSED', {
      pipeline: 'orders',
      runId: 'orders-12-3',
      code: 'SOURCE_CONNECTION',
    });
    logger.notice('run billing-4 stopped', { pipeline: 'billing', runId: 'billing-4', rows: 17 });
    logger.info('etld running: 2 pipeline(s) loaded');
    logger.warning('driver said postgres://etl:hunter2@db1/shop is gone', { pipeline: 'orders' });

    await receiver.waitFor(() => true, 'four journal entries', 4);
    const entries = receiver.received.map((r) => decode(r.payload));
    const [failed, stopped, running, secret] = entries;

    expect(one(failed!, 'MESSAGE')).toBe(
      'run orders-12-3 failed after 3 attempt(s): SOURCE_CONNECTION: connect ECONNREFUSED',
    );
    expect(one(failed!, 'PRIORITY')).toBe('3');
    expect(one(failed!, 'SYSLOG_IDENTIFIER')).toBe('etld');
    expect(one(failed!, 'PIPELINE')).toBe('orders');
    expect(one(failed!, 'RUN_ID')).toBe('orders-12');
    expect(one(failed!, 'ATTEMPT')).toBe('3');
    expect(one(failed!, 'ETLD_ATTEMPT_ID')).toBe('orders-12-3');
    expect(one(failed!, 'ETLD_CODE')).toBe('SOURCE_CONNECTION');

    expect(one(stopped!, 'PRIORITY')).toBe('5');
    expect(one(stopped!, 'PIPELINE')).toBe('billing');
    expect(one(stopped!, 'RUN_ID')).toBe('billing-4');
    expect(stopped!.has('ATTEMPT')).toBe(false);
    expect(one(stopped!, 'ETLD_ROWS')).toBe('17');

    expect(one(running!, 'PRIORITY')).toBe('6');
    expect(running!.has('PIPELINE')).toBe(false);
    expect(running!.has('RUN_ID')).toBe(false);

    // Redacted exactly like stdout.
    expect(one(secret!, 'MESSAGE')).toBe('driver said postgres://etl:***@db1/shop is gone');
    expect(receiver.texts().join('')).not.toContain('hunter2');
    expect(fallback).toEqual([]);
  });

  it('encodes a multi-line message with its length (the binary form) and keeps every byte', async () => {
    receiver = startDatagramReceiver('journal.sock');
    sender = unixDatagramSender();
    const sink = new JournaldSink({
      sender,
      socketPath: receiver.path,
      fallback: { write: () => undefined },
    });
    const message = 'first line\nsecond line with = sign\n  indented third: ünïcödé';
    new FanoutLogger([sink]).debug(message, { pipeline: 'orders', runId: 'orders-1-1', detail: 'a\nb' });
    const [text] = await receiver.waitFor(() => true, 'one entry');
    expect(text).toContain('MESSAGE\n');
    const fields = decode(receiver.received[0]!.payload);
    expect(one(fields, 'MESSAGE')).toBe(message);
    expect(one(fields, 'PRIORITY')).toBe('7');
    expect(one(fields, 'ETLD_DETAIL')).toBe('a\nb');
  });

  it('cuts a huge message so the datagram still fits the socket buffer', () => {
    const record: LogRecord = {
      ts: new Date(),
      level: 'error',
      message: 'x'.repeat(400_000),
      pipeline: 'orders',
      runId: null,
      fields: {},
    };
    const entry = journalEntry(record);
    expect(entry.length).toBeLessThan(64 * 1024);
    expect(one(decode(entry), 'MESSAGE')).toMatch(/x… \(cut\)$/);
  });

  it('falls back to stdout (the fallback sink) when journald is not there, saying so once', async () => {
    sender = unixDatagramSender();
    const fallback: LogRecord[] = [];
    const sink = new JournaldSink({
      sender,
      socketPath: '/nonexistent/etld-test/journal.sock',
      fallback: { write: (r) => fallback.push(r) },
    });
    const logger = new FanoutLogger([sink]);
    logger.info('one', { pipeline: 'orders' });
    logger.info('two', { pipeline: 'orders' });
    const { waitFor } = await import('../helpers/process.js');
    await waitFor(() => (fallback.length >= 3 ? true : undefined), {
      timeoutMs: 5_000,
      what: 'fallback lines',
    });
    expect(fallback.map((r) => r.message)).toEqual([
      expect.stringMatching(
        /^journald socket \/nonexistent\/etld-test\/journal\.sock refused an entry \(.+\); writing to stdout$/,
      ),
      'one',
      'two',
    ]);
  });

  it('splits attempt ids into run and attempt', () => {
    expect(splitRunId('orders', 'orders-12-3')).toEqual({
      runId: 'orders-12',
      attempt: 3,
      attemptId: 'orders-12-3',
    });
    expect(splitRunId('orders', 'orders-12')).toEqual({ runId: 'orders-12', attempt: null, attemptId: null });
    expect(splitRunId('a-1', 'a-1-5')).toEqual({ runId: 'a-1-5', attempt: null, attemptId: null });
    expect(splitRunId('a-1', 'a-1-5-2')).toEqual({ runId: 'a-1-5', attempt: 2, attemptId: 'a-1-5-2' });
    expect(splitRunId(null, 'orders-12-3')).toEqual({
      runId: 'orders-12',
      attempt: 3,
      attemptId: 'orders-12-3',
    });
  });

  it('uses journald only when stdout is the stream systemd named in JOURNAL_STREAM', () => {
    expect(stdoutIsJournal('8:1234', { dev: 8, ino: 1234 })).toBe(true);
    expect(stdoutIsJournal('8:1234', { dev: 8, ino: 999 })).toBe(false);
    expect(stdoutIsJournal(undefined, { dev: 8, ino: 1234 })).toBe(false);
    expect(stdoutIsJournal('8:1234', null)).toBe(false);
  });
});
