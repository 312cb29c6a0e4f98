/**
 * etl-console's `:runs` over a long history, in a real terminal (tmux) against a spawned etld: a
 * state store seeded with 2,000 runs across pipelines (through the store API, before the daemon
 * starts) scrolls page by page past the first 500, and a filter finds a run far older than the
 * newest 500 — the daemon searches the whole history, not what the console has loaded.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openStateStore } from '../../daemon/state/sqlite-store.js';
import {
  CONSOLE_MAIN,
  makeTempHome,
  spawnDaemon,
  type DaemonProcess,
  type TempHome,
} from '../helpers/daemon-process.js';
import { TmuxSession } from './tmux.js';

let home: TempHome;
let daemon: DaemonProcess;
const tmux = new TmuxSession();
const PIPELINES = ['orders', 'customers', 'invoices', 'payments'];

/** The run ids in the listing's order, newest first, as the store lists them. */
let listing: string[] = [];

/** 2,000 runs, oldest first: a `legacy` pipeline's 20 come first, then the others' round robin. */
function seedHistory(path: string): void {
  let clock = Date.parse('2026-01-01T00:00:00Z');
  const store = openStateStore(path, () => new Date(clock));
  const add = (pipeline: string, index: number): void => {
    const row = store.insertRun({
      pipeline,
      sequence: store.nextSequence(pipeline),
      attempt: 1,
      trigger: 'schedule',
      kind: { kind: 'normal' },
      status: 'running',
    });
    const failed = index % 25 === 0;
    store.updateRun(row.id, {
      status: failed ? 'failed' : 'succeeded',
      startedAt: new Date(clock).toISOString(),
      finishedAt: new Date(clock + 5000).toISOString(),
      rowsLoaded: failed ? 0 : 100 + index,
      ...(failed ? { errorCode: 'SOURCE_QUERY', errorMessage: `relation "t${index}" does not exist` } : {}),
    });
    // Every other run starts in the same second as the one before: ties the listing must order.
    if (index % 2 === 1) clock += 60_000;
  };
  for (let i = 0; i < 20; i++) add('legacy', i);
  for (let i = 20; i < 2000; i++) add(PIPELINES[i % PIPELINES.length] ?? 'orders', i);
  listing = store.findRuns({ limit: 5000 }).map((attempts) => {
    const first = attempts[0];
    return `${first?.pipeline}-${first?.sequence}`;
  });
  store.close();
}

beforeAll(async () => {
  // dist/ is built once by the tests' global setup; a rebuild here would race other files' daemons.
  if (!existsSync(CONSOLE_MAIN)) throw new Error(`${CONSOLE_MAIN} is missing: the global setup builds dist/`);
  home = makeTempHome('etl-console-paging-');
  seedHistory(join(home.dir, 'state', 'etld.db'));
  daemon = spawnDaemon(home.dir);
  await daemon.waitForLine(/etld running/, 60_000);
  await tmux.start(160, 40, {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    TERM: 'xterm-256color',
    LANG: 'C.UTF-8',
  });
});

afterAll(async () => {
  await tmux.kill();
  if (daemon !== undefined && daemon.child.exitCode === null && daemon.child.signalCode === null)
    await daemon.stop();
  home?.remove();
});

const shownOf = (screen: string): number => Number(/(\d+) runs shown/.exec(screen)?.[1] ?? -1);
const selectedRow = (screen: string): string =>
  screen.split('\n').find((line) => line.startsWith('› ')) ?? '';

describe('etl-console :runs over 2,000 runs (tmux, spawned etld)', () => {
  it('scrolls past the first 500 page by page and filters to a run older than the newest 500', async () => {
    await tmux.run(
      `${JSON.stringify(process.execPath)} ${JSON.stringify(CONSOLE_MAIN)} --home ${JSON.stringify(home.dir)}; echo "console exited $?"`,
    );
    await tmux.waitForScreen((s) => s.includes('● connected'), 'the console');
    await tmux.keys(':runs');
    await tmux.keys('Enter', false);
    let screen = await tmux.waitForScreen(
      (s) => s.includes('200 runs shown, more below, newest first'),
      'the first page',
    );
    expect(listing).toHaveLength(2000);
    expect(selectedRow(screen)).toMatch(new RegExp(`^› ${listing[0]}\\s+succeeded`));
    expect(screen).not.toMatch(/ of 500 /);

    // 200 runs are loaded; a filter still finds legacy-7, about 1,990 runs further down: the
    // daemon searches the whole history.
    expect(listing.indexOf('legacy-7')).toBeGreaterThan(1900);
    await tmux.keys('/legacy-7');
    await tmux.keys('Enter', false);
    screen = await tmux.waitForScreen(
      (s) => s.includes('1 run, newest first · filter "legacy-7"'),
      'the old run, found by the daemon',
    );
    expect(selectedRow(screen)).toMatch(/^› legacy-7\s+succeeded/);

    // An error code: every failed run's, whatever its age (80 of them). (Escape alone first: with
    // the next key in the same read the terminal reports Alt+key.)
    await tmux.keys('Escape', false);
    await tmux.waitForScreen((s) => !s.includes('filter "legacy-7"'), 'the filter cleared');
    await tmux.keys('/SOURCE_QUERY');
    await tmux.keys('Enter', false);
    await tmux.waitForScreen(
      (s) => s.includes('80 runs, newest first · filter "SOURCE_QUERY"'),
      'the failed runs',
    );
    await tmux.keys('G');
    screen = await tmux.waitForScreen(
      (s) => selectedRow(s).startsWith('› legacy-1 '),
      'the oldest failed run',
    );
    expect(selectedRow(screen)).toMatch(/^› legacy-1\s+failed/);

    // Without the filter, G goes to the end of what is loaded, which asks for the next page.
    await tmux.keys('Escape', false);
    await tmux.waitForScreen((s) => s.includes('200 runs shown, more below'), 'the first page again');
    for (const loaded of [400, 600, 800, 1000, 1200, 1400, 1600, 1800]) {
      await tmux.keys('G');
      screen = await tmux.waitForScreen((s) => shownOf(s) === loaded, `${loaded} runs loaded`);
      expect(screen).toContain(`${loaded} runs shown, more below`);
      // The selection is on the last run of the page before, in the daemon's order.
      expect(selectedRow(screen)).toMatch(new RegExp(`^› ${listing[loaded - 201]}\\s`));
    }
    await tmux.keys('G');
    await tmux.waitForScreen((s) => s.includes('2000 runs, newest first'), 'the whole history');
    await tmux.keys('G');
    await tmux.waitForScreen((s) => selectedRow(s).startsWith('› legacy-1 '), 'the oldest run');
    expect(listing.at(-1)).toBe('legacy-1');

    await tmux.keys('q');
    expect(await tmux.waitForScreen((s) => /console exited \d+/.test(s), 'the exit')).toContain(
      'console exited 0',
    );
  });
});
