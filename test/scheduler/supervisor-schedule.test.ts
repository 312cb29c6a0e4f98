import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { openStateStore } from '../../daemon/state/sqlite-store.js';
import { controllable, harness, pipeline } from './harness.js';

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

describe('schedules in the supervisor', () => {
  it('fires at the DST-correct instants in Europe/Warsaw and exposes the next fire time', async () => {
    const h = harness('2026-03-28T12:00:00Z');
    h.supervisor.setPipelines(
      [pipeline('nightly', { schedule: '30 2 * * *', timezone: 'Europe/Warsaw' })],
      [],
    );
    h.supervisor.start();
    expect(h.supervisor.summaries()[0]).toMatchObject({
      next_run_at: '2026-03-29T01:00:00.000Z',
      timezone: 'Europe/Warsaw',
      schedule: '30 2 * * *',
      schedule_human: 'every day at 02:30 (Europe/Warsaw)',
    });
    await h.clock.advanceTo('2026-03-30T12:00:00Z');
    expect(h.engine.requests.map((r) => r.at)).toEqual([
      '2026-03-29T01:00:00.000Z',
      '2026-03-30T00:30:00.000Z',
    ]);
    expect(h.supervisor.why('nightly').lines[0]).toMatch(
      /next run at 2026-03-31T00:30:00.000Z \(2026-03-31 02:30 Europe\/Warsaw \(UTC\+02:00\)\)/,
    );
  });

  it('fires once across the New York fall-back', async () => {
    const h = harness('2026-10-31T12:00:00Z');
    h.supervisor.setPipelines(
      [pipeline('nightly', { schedule: '30 1 * * *', timezone: 'America/New_York' })],
      [],
    );
    h.supervisor.start();
    await h.clock.advanceTo('2026-11-02T12:00:00Z');
    expect(h.engine.requests.map((r) => r.at)).toEqual([
      '2026-11-01T05:30:00.000Z',
      '2026-11-02T06:30:00.000Z',
    ]);
  });

  it('runs a one-shot `at` schedule once and a manual-only pipeline never', async () => {
    const h = harness('2026-11-30T00:00:00Z');
    h.supervisor.setPipelines(
      [pipeline('once', { schedule: 'at 2026-12-01T02:00', timezone: 'Europe/Warsaw' }), pipeline('byhand')],
      [],
    );
    h.supervisor.start();
    await h.clock.advanceTo('2026-12-05T00:00:00Z');
    expect(h.engine.requests.map((r) => [r.request.pipeline.name, r.at])).toEqual([
      ['once', '2026-12-01T01:00:00.000Z'],
    ]);
    const byName = Object.fromEntries(h.supervisor.summaries().map((s) => [s.name, s]));
    expect(byName.once).toMatchObject({ next_run_at: null, state: 'idle' });
    expect(byName.byhand).toMatchObject({ next_run_at: null, schedule: null, schedule_human: 'manual only' });
    expect(h.supervisor.why('byhand').lines[0]).toMatch(/manual only/);
    expect(h.supervisor.why('once').lines[0]).toMatch(/has passed/);
  });

  it('every 15m fires on the quarter hours', async () => {
    const h = harness('2026-06-01T10:07:00Z');
    h.supervisor.setPipelines([pipeline('often', { schedule: 'every 15m' })], []);
    h.supervisor.start();
    await h.clock.advanceTo('2026-06-01T11:00:00Z');
    expect(h.engine.requests.map((r) => r.at)).toEqual([
      '2026-06-01T10:15:00.000Z',
      '2026-06-01T10:30:00.000Z',
      '2026-06-01T10:45:00.000Z',
      '2026-06-01T11:00:00.000Z',
    ]);
  });
});

describe('overlap', () => {
  it('skip: a fire during an active run is skipped and recorded for `why`', async () => {
    const h = harness('2026-06-01T00:00:30Z');
    const slow = controllable();
    h.engine.script(slow.script);
    h.supervisor.setPipelines([pipeline('minutely', { schedule: '* * * * *' })], []);
    h.supervisor.start();
    await h.clock.advanceTo('2026-06-01T00:02:30Z');
    expect(h.engine.requests.map((r) => r.at)).toEqual(['2026-06-01T00:01:00.000Z']);
    expect(h.store.getRuntime('minutely').lastSkipReason).toMatch(
      /overlap: run minutely-1-1 was still running .* \(overlap: skip\)/,
    );
    expect(h.supervisor.why('minutely').lines.join('\n')).toMatch(/overlap: skip/);
    expect(() => h.supervisor.trigger('minutely', 'manual')).toThrow(/already running/);
    slow.finish();
    await h.clock.advanceTo('2026-06-01T00:03:30Z');
    expect(h.engine.requests.map((r) => r.at)).toEqual([
      '2026-06-01T00:01:00.000Z',
      '2026-06-01T00:03:00.000Z',
    ]);
  });

  it('queue: one fire waits behind the active run, later ones are coalesced', async () => {
    const h = harness('2026-06-01T00:00:30Z');
    const slow = controllable();
    h.engine.script(slow.script);
    h.supervisor.setPipelines([pipeline('minutely', { schedule: '* * * * *', overlap: 'queue' })], []);
    h.supervisor.start();
    await h.clock.advanceTo('2026-06-01T00:03:30Z');
    expect(h.engine.requests).toHaveLength(1);
    expect(h.store.getRuntime('minutely').lastSkipReason).toMatch(/already queued/);
    expect(h.supervisor.why('minutely').lines.join('\n')).toMatch(/queued behind the active run/);
    slow.finish();
    await h.clock.advance(1);
    expect(h.engine.requests.map((r) => [r.at, r.request.trigger])).toEqual([
      ['2026-06-01T00:01:00.000Z', 'schedule'],
      ['2026-06-01T00:03:30.000Z', 'schedule'],
    ]);
  });
});

describe('misfire after downtime', () => {
  it('run_once: exactly one catch-up run for several missed fires', async () => {
    const h = harness('2026-06-05T09:00:00Z');
    h.store.markFire('orders', '2026-06-01T00:00:00.000Z'); // the last fire the previous daemon acted on
    h.supervisor.setPipelines([pipeline('orders', { schedule: '@daily' })], []);
    h.supervisor.start();
    await h.clock.advanceTo('2026-06-05T23:00:00Z');
    expect(h.engine.requests.map((r) => [r.at, r.request.trigger])).toEqual([
      ['2026-06-05T09:00:00.000Z', 'catchup'],
    ]);
    expect(h.store.getRuntime('orders').lastSkipReason).toMatch(
      /daemon down over 4 fire time\(s\).*one catch-up run/,
    );
    await h.clock.advanceTo('2026-06-06T00:00:01Z');
    expect(h.engine.requests).toHaveLength(2);

    // A restart right away finds nothing missed: no second catch-up.
    const again = h.restart();
    again.setPipelines([pipeline('orders', { schedule: '@daily' })], []);
    again.start();
    await h.clock.advance(60_000);
    expect(h.engine.requests).toHaveLength(2);
  });

  it('skip: no catch-up, the reason is recorded', async () => {
    const h = harness('2026-06-05T09:00:00Z');
    h.store.markFire('orders', '2026-06-01T00:00:00.000Z');
    h.supervisor.setPipelines([pipeline('orders', { schedule: '@daily', misfire: 'skip' })], []);
    h.supervisor.start();
    await h.clock.advanceTo('2026-06-05T23:00:00Z');
    expect(h.engine.requests).toHaveLength(0);
    expect(h.supervisor.why('orders').lines.join('\n')).toMatch(
      /misfire skipped: daemon down over 4 fire time\(s\)/,
    );
  });

  it('a first start records a baseline so a later downtime is recognised', async () => {
    const h = harness('2026-06-01T12:00:00Z');
    h.supervisor.setPipelines([pipeline('orders', { schedule: '@daily' })], []);
    h.supervisor.start();
    expect(h.store.getRuntime('orders').lastFireAt).toBe('2026-06-01T12:00:00.000Z');
    await h.supervisor.drain(1000);
    await h.clock.advanceTo('2026-06-03T12:00:00Z');
    expect(h.engine.requests).toHaveLength(0);
    const next = h.restart();
    next.setPipelines([pipeline('orders', { schedule: '@daily' })], []);
    next.start();
    await h.clock.advance(1);
    expect(h.engine.requests.map((r) => r.request.trigger)).toEqual(['catchup']);
  });
});

describe('pause and resume', () => {
  it('is persisted: a new supervisor on the same store stays paused; no catch-up for paused time', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'etld-sched-'));
    dirs.push(dir);
    const first = harness('2026-06-01T12:00:00Z');
    const path = join(dir, 'state.db');
    const store = openStateStore(path, () => first.clock.now());
    const a = harness('2026-06-01T12:00:00Z', { store });
    a.supervisor.setPipelines([pipeline('orders', { schedule: '@hourly' })], []);
    a.supervisor.start();
    expect(a.supervisor.pause('orders')).toEqual({ pipeline: 'orders', paused: true });
    await a.clock.advanceTo('2026-06-01T13:30:00Z');
    expect(a.engine.requests).toHaveLength(0);
    expect(a.supervisor.summaries()[0]).toMatchObject({ state: 'paused', paused: true, next_run_at: null });
    await a.supervisor.drain(1000);
    store.close();

    const reopened = openStateStore(path);
    const b = harness('2026-06-01T16:30:00Z', { store: reopened });
    b.supervisor.setPipelines([pipeline('orders', { schedule: '@hourly' })], []);
    b.supervisor.start();
    await b.clock.advanceTo('2026-06-01T18:30:00Z');
    expect(b.engine.requests).toHaveLength(0);
    expect(b.supervisor.summaries()[0]).toMatchObject({ paused: true, state: 'paused' });
    expect(b.supervisor.why('orders').lines[0]).toMatch(
      /^paused since 2026-06-01T12:00:00.000Z.*would run next at 2026-06-01T19:00:00.000Z/,
    );
    expect(b.store.getRuntime('orders').lastSkipReason).toMatch(
      /^paused: the schedule fired at 2026-06-01T18:00:00.000Z/,
    );

    // A manual start still works while paused; resume brings the schedule back, without a burst.
    b.supervisor.trigger('orders', 'manual');
    await b.clock.advance(1);
    b.supervisor.resume('orders');
    await b.clock.advanceTo('2026-06-01T19:00:01Z');
    expect(b.engine.requests.map((r) => [r.at, r.request.trigger])).toEqual([
      ['2026-06-01T18:30:00.000Z', 'manual'],
      ['2026-06-01T19:00:00.000Z', 'schedule'],
    ]);
    reopened.close();
  });

  it('pausing does not stop a running run', async () => {
    const h = harness('2026-06-01T12:00:00Z');
    const slow = controllable();
    h.engine.script(slow.script);
    h.supervisor.setPipelines([pipeline('orders')], []);
    h.supervisor.start();
    const { runId } = h.supervisor.trigger('orders', 'manual');
    h.supervisor.pause('orders');
    await h.clock.advance(1000);
    expect(h.supervisor.summaries()[0]).toMatchObject({ state: 'running', paused: true });
    slow.finish(3);
    await h.clock.advance(1);
    expect(h.store.getRun(`${runId}-1`)?.status).toBe('succeeded');
  });
});

describe('reload', () => {
  it('reschedules changed pipelines, keeps in-flight runs, drops removed ones after their run', async () => {
    const h = harness('2026-06-01T00:30:00Z');
    const slow = controllable();
    h.engine.script(slow.script);
    h.supervisor.setPipelines(
      [pipeline('a', { schedule: '@hourly' }), pipeline('b', { schedule: '@hourly' })],
      [],
    );
    h.supervisor.start();
    await h.clock.advanceTo('2026-06-01T01:00:00Z'); // a (slow) and b run
    h.supervisor.setPipelines(
      [pipeline('b', { schedule: '*/10 * * * *' })],
      [
        {
          name: 'c',
          file: '/etc/etld/pipelines/c.yaml',
          problems: ['c.yaml:3:1 source.table: give exactly one of table, tables or query'],
        },
      ],
    );
    expect(h.supervisor.summaries().map((s) => [s.name, s.state, s.next_run_at])).toEqual([
      ['b', 'idle', '2026-06-01T01:10:00.000Z'],
      ['c', 'invalid', null],
    ]);
    expect(h.supervisor.why('c').lines.join('\n')).toMatch(/invalid file .*c\.yaml.*give exactly one/s);
    expect(() => h.supervisor.trigger('c', 'manual')).toThrow(/invalid/);
    expect(() => h.supervisor.trigger('a', 'manual')).toThrow(/no pipeline named "a"/);
    expect(h.supervisor.currentRun('a')).toMatchObject({ id: 'a-1', status: 'running' });
    slow.finish();
    await h.clock.advanceTo('2026-06-01T02:00:01Z');
    expect(h.store.getRun('a-1-1')?.status).toBe('succeeded');
    expect(h.engine.requests.filter((r) => r.request.pipeline.name === 'a')).toHaveLength(1);
    expect(h.engine.requests.filter((r) => r.request.pipeline.name === 'b').map((r) => r.at)).toEqual([
      '2026-06-01T01:00:00.000Z',
      '2026-06-01T01:10:00.000Z',
      '2026-06-01T01:20:00.000Z',
      '2026-06-01T01:30:00.000Z',
      '2026-06-01T01:40:00.000Z',
      '2026-06-01T01:50:00.000Z',
      '2026-06-01T02:00:00.000Z',
    ]);
    expect(h.supervisor.currentRun('a')).toBeNull();
  });
});
