import { describe, expect, it } from 'vitest';
import { EtlError } from '../../shared/errors.js';
import { SourceGovernor } from '../../daemon/scheduler/source-governor.js';

const tick = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

describe('SourceGovernor', () => {
  it('caps concurrent holders per host, FIFO, and leaves other hosts alone', async () => {
    const governor = new SourceGovernor({ slotsPerHost: 2 });
    const signal = new AbortController().signal;
    const order: string[] = [];
    let waits = 0;
    const a = await governor.acquire('db1:5432', signal);
    const b = await governor.acquire('db1:5432', signal);
    const c = governor
      .acquire('db1:5432', signal, () => waits++)
      .then((release) => {
        order.push('c');
        return release;
      });
    const d = governor
      .acquire('db1:5432', signal, () => waits++)
      .then((release) => {
        order.push('d');
        return release;
      });
    const other = await governor.acquire('db2:5432', signal);
    await tick();
    expect(waits).toBe(2);
    expect(governor.inUse('db1:5432')).toBe(2);
    expect(governor.waiting('db1:5432')).toBe(2);
    expect(governor.usage()).toEqual([
      { host: 'db1:5432', inUse: 2, waiting: 2 },
      { host: 'db2:5432', inUse: 1, waiting: 0 },
    ]);
    expect(order).toEqual([]);

    a();
    a(); // a double release must not free a second slot
    await tick();
    expect(order).toEqual(['c']);
    expect(governor.waiting('db1:5432')).toBe(1);
    b();
    await tick();
    expect(order).toEqual(['c', 'd']);
    (await c)();
    (await d)();
    other();
    expect(governor.usage()).toEqual([]);
  });

  it('an aborted wait rejects CANCELLED and gives its place away', async () => {
    const governor = new SourceGovernor({ slotsPerHost: 1 });
    const hold = await governor.acquire('h', new AbortController().signal);
    const controller = new AbortController();
    const aborted = governor.acquire('h', controller.signal);
    const next = governor.acquire('h', new AbortController().signal);
    controller.abort(new Error('stop requested'));
    await expect(aborted).rejects.toMatchObject({
      code: 'CANCELLED',
      message: expect.stringContaining('stop requested'),
    });
    expect(governor.waiting('h')).toBe(1);
    hold();
    const release = await next;
    expect(governor.inUse('h')).toBe(1);
    release();
    await expect(governor.acquire('h', AbortSignal.abort())).rejects.toBeInstanceOf(EtlError);
  });

  it('raising the cap admits waiters; bad caps are refused', async () => {
    const governor = new SourceGovernor({ slotsPerHost: 1 });
    const signal = new AbortController().signal;
    await governor.acquire('h', signal);
    let admitted = false;
    const waiting = governor.acquire('h', signal).then((release) => {
      admitted = true;
      return release;
    });
    await tick();
    expect(admitted).toBe(false);
    governor.setSlotsPerHost(2);
    await waiting;
    expect(admitted).toBe(true);
    expect(() => new SourceGovernor({ slotsPerHost: 0 })).toThrow(/source_slots_per_host/);
    expect(() => governor.setSlotsPerHost(1.5)).toThrow(EtlError);
  });
});
