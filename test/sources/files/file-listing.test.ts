import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { compileGlob } from '../../../daemon/sources/files/file-glob.js';
import { planFiles, type FilePlanOptions } from '../../../daemon/sources/files/file-listing.js';
import { EtlError } from '../../../shared/errors.js';
import {
  fileTree,
  GeneratedListingStore,
  HOUR,
  Ledger,
  noLookup,
  NOW,
  numberedObjects,
  type FileTree,
} from './listing-fixtures.js';

let tree: FileTree;
let ledger: Ledger;

beforeEach(async () => {
  tree = await fileTree();
  ledger = new Ledger();
});

afterEach(async () => {
  await tree.remove();
});

function options(overrides: Partial<FilePlanOptions> = {}): FilePlanOptions {
  return {
    store: tree.store,
    glob: compileGlob('landing/**/*.csv'),
    lookup: ledger.lookup,
    onChangedFile: 'fail',
    maxFiles: 1000,
    minAgeMs: 60_000,
    now: NOW,
    select: 'new',
    ...overrides,
  };
}

async function caught(promise: Promise<unknown>): Promise<EtlError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof EtlError) return error;
    throw error;
  }
  throw new Error('the plan was made');
}

describe('planFiles', () => {
  it('plans the matching files under the prefix in key order, with what the store says of them', async () => {
    await tree.write('landing/b.csv', 'bb');
    await tree.write('landing/a.csv', 'a', 2 * HOUR);
    await tree.write('landing/2026/12/c.csv', 'ccc');
    await tree.write('landing/notes.txt', 'not a match');
    await tree.write('elsewhere/d.csv', 'outside the prefix');

    const plan = await planFiles(options());

    expect(plan.files.map((file) => [file.key, file.size, file.reason])).toEqual([
      ['landing/2026/12/c.csv', 3, 'new'],
      ['landing/a.csv', 1, 'new'],
      ['landing/b.csv', 2, 'new'],
    ]);
    const a = plan.files[1]!;
    expect(a.lastModified.getTime()).toBe(NOW.getTime() - 2 * HOUR);
    expect(a.version).toBe((await tree.store.head('landing/a.csv'))!.version);
    expect(plan).toMatchObject({
      bytes: 6,
      listed: 4,
      matched: 3,
      alreadyLoaded: 0,
      quarantined: 0,
      changedIgnored: 0,
      tooNew: 0,
      truncated: false,
    });
    expect(ledger.pages).toEqual([3]);
  });

  it('leaves loaded files out of the next run and plans only what arrived since', async () => {
    await tree.write('landing/a.csv', 'a');
    await tree.write('landing/b.csv', 'b');
    ledger.record((await planFiles(options())).files);

    const quiet = await planFiles(options());
    expect(quiet.files).toEqual([]);
    expect(quiet).toMatchObject({ bytes: 0, matched: 2, alreadyLoaded: 2, truncated: false });

    await tree.write('landing/ab.csv', 'new');
    const next = await planFiles(options());
    expect(next.files.map((file) => file.key)).toEqual(['landing/ab.csv']);
    expect(next).toMatchObject({ matched: 3, alreadyLoaded: 2 });
  });

  describe('a file rewritten after it was loaded', () => {
    beforeEach(async () => {
      await tree.write('landing/a.csv', 'a');
      await tree.write('landing/b.csv', 'first version');
      ledger.record((await planFiles(options())).files);
      await tree.write('landing/b.csv', 'second, longer version', HOUR / 2);
    });

    it("fails the run under 'fail', naming the file, its sizes and the setting", async () => {
      const error = await caught(planFiles(options({ onChangedFile: 'fail' })));
      expect(error.code).toBe('SOURCE_DATA');
      expect(error.retryable).toBe(false);
      expect(error.message).toContain('landing/b.csv changed after it was loaded');
      expect(error.message).toContain('its size went from 13 to 22 bytes');
      expect(error.message).toContain("source.on_changed_file is 'fail'");
      expect(error.message).toContain("'ignore'");
      expect(error.message).toContain("'reload'");
    });

    it("is counted and skipped under 'ignore'", async () => {
      const plan = await planFiles(options({ onChangedFile: 'ignore' }));
      expect(plan.files).toEqual([]);
      expect(plan).toMatchObject({ alreadyLoaded: 1, changedIgnored: 1 });
    });

    it("is planned again under 'reload'", async () => {
      const plan = await planFiles(options({ onChangedFile: 'reload' }));
      expect(plan.files.map((file) => [file.key, file.size, file.reason])).toEqual([
        ['landing/b.csv', 22, 'changed'],
      ]);
      expect(plan).toMatchObject({ alreadyLoaded: 1, changedIgnored: 0, bytes: 22 });
    });
  });

  it('tells a rewrite of the same size by its version', async () => {
    await tree.write('landing/a.csv', 'abc');
    ledger.record((await planFiles(options())).files);
    await tree.write('landing/a.csv', 'xyz', HOUR / 2);

    const error = await caught(planFiles(options()));
    expect(error.message).toContain('landing/a.csv changed after it was loaded (its size is still 3 bytes');
    expect((await planFiles(options({ onChangedFile: 'reload' }))).files[0]?.reason).toBe('changed');
  });

  it('skips a quarantined file until it is replaced, then retries it', async () => {
    await tree.write('landing/bad.csv', 'broken');
    await tree.write('landing/good.csv', 'fine');
    const first = await planFiles(options());
    ledger.record(
      first.files.filter((file) => file.key === 'landing/bad.csv'),
      'quarantined',
    );
    ledger.record(
      first.files.filter((file) => file.key === 'landing/good.csv'),
      'loaded',
    );

    const skipped = await planFiles(options());
    expect(skipped.files).toEqual([]);
    expect(skipped).toMatchObject({ quarantined: 1, alreadyLoaded: 1 });

    await tree.write('landing/bad.csv', 'repaired', HOUR / 2);
    const retried = await planFiles(options());
    expect(retried.files.map((file) => [file.key, file.reason])).toEqual([
      ['landing/bad.csv', 'retry-quarantined'],
    ]);
    expect(retried.quarantined).toBe(0);
  });

  it('leaves files younger than minAgeMs for a later run', async () => {
    await tree.write('landing/old.csv', 'o');
    await tree.write('landing/exactly-old-enough.csv', 'e', 60_000);
    await tree.write('landing/fresh.csv', 'f', 59_000);
    await tree.write('landing/future.csv', 'clock skew', -HOUR);

    const plan = await planFiles(options({ minAgeMs: 60_000 }));
    expect(plan.files.map((file) => file.key)).toEqual(['landing/exactly-old-enough.csv', 'landing/old.csv']);
    expect(plan).toMatchObject({ matched: 4, tooNew: 2 });
    // Young files are not looked up: the ledger saw only the two old enough.
    expect(ledger.pages).toEqual([2]);

    const noWait = await planFiles(options({ minAgeMs: 0 }));
    expect(noWait.files).toHaveLength(4);
    expect(noWait.tooNew).toBe(0);
  });

  it('plans at most maxFiles, the first in key order, and says more are waiting', async () => {
    for (let index = 9; index >= 0; index--) await tree.write(`landing/f${index}.csv`, 'x'.repeat(index + 1));

    const first = await planFiles(options({ maxFiles: 3 }));
    expect(first.files.map((file) => file.key)).toEqual([
      'landing/f0.csv',
      'landing/f1.csv',
      'landing/f2.csv',
    ]);
    expect(first).toMatchObject({ bytes: 1 + 2 + 3, truncated: true });

    ledger.record(first.files);
    const second = await planFiles(options({ maxFiles: 3 }));
    expect(second.files.map((file) => file.key)).toEqual([
      'landing/f3.csv',
      'landing/f4.csv',
      'landing/f5.csv',
    ]);
    expect(second).toMatchObject({ alreadyLoaded: 3, truncated: true });

    ledger.record(second.files);
    // Exactly as many eligible files as maxFiles: nothing is left waiting.
    await tree.write('landing/f5.csv', 'rewritten', HOUR / 2);
    const last = await planFiles(options({ maxFiles: 4, onChangedFile: 'ignore' }));
    expect(last.files.map((file) => file.key)).toEqual([
      'landing/f6.csv',
      'landing/f7.csv',
      'landing/f8.csv',
      'landing/f9.csv',
    ]);
    expect(last).toMatchObject({ truncated: false, alreadyLoaded: 5, changedIgnored: 1, matched: 10 });
  });

  it("with select 'all' plans every matching file without consulting the ledger", async () => {
    await tree.write('landing/a.csv', 'a');
    await tree.write('landing/b.csv', 'b');
    await tree.write('landing/c.csv', 'c', 1000);
    ledger.record((await planFiles(options())).files);

    const full = await planFiles(options({ select: 'all', lookup: noLookup }));
    expect(full.files.map((file) => [file.key, file.reason])).toEqual([
      ['landing/a.csv', 'new'],
      ['landing/b.csv', 'new'],
    ]);
    expect(full).toMatchObject({ matched: 3, tooNew: 1, alreadyLoaded: 0, truncated: false });

    const capped = await planFiles(options({ select: 'all', lookup: noLookup, maxFiles: 1 }));
    expect(capped.files.map((file) => file.key)).toEqual(['landing/a.csv']);
    expect(capped.truncated).toBe(true);
  });

  it('narrows the listing to the literal prefix of the pattern', async () => {
    await tree.write('2025/12/a.csv', 'a');
    await tree.write('2026/11/a.csv', 'a');
    await tree.write('2026/12/a.csv', 'a');
    await tree.write('2026/12/b.json', 'b');
    await tree.write('2026/12/deeper/c.csv', 'c');

    const plan = await planFiles(options({ glob: compileGlob('2026/12/*.csv') }));
    expect(plan.files.map((file) => file.key)).toEqual(['2026/12/a.csv']);
    expect(plan).toMatchObject({ listed: 3, matched: 1 });
  });

  it('skips directory placeholders', async () => {
    const modified = new Date(NOW.getTime() - HOUR);
    const store = new GeneratedListingStore(() => [
      { key: 'landing/', size: 0, lastModified: modified, version: 'd1' },
      { key: 'landing/2026/', size: 0, lastModified: modified, version: 'd2' },
      { key: 'landing/2026/a.csv', size: 5, lastModified: modified, version: 'f1' },
    ]);
    const plan = await planFiles(options({ store, glob: compileGlob('landing/**') }));
    expect(plan.files.map((file) => file.key)).toEqual(['landing/2026/a.csv']);
    expect(plan).toMatchObject({ listed: 3, matched: 1 });
  });

  it('looks the ledger up in pages of at most 500 keys', async () => {
    const store = new GeneratedListingStore(() => numberedObjects(1234));
    const plan = await planFiles(options({ store, maxFiles: 2000 }));
    expect(ledger.pages).toEqual([500, 500, 234]);
    expect(plan.files).toHaveLength(1234);
  });

  it('stops with CANCELLED when the signal aborts, checking between pages', async () => {
    const store = new GeneratedListingStore(() => numberedObjects(5000));
    const before = new AbortController();
    before.abort();
    const early = await caught(planFiles(options({ store, signal: before.signal })));
    expect(early.code).toBe('CANCELLED');
    expect(early.message).toBe(
      'listing generated://listing for files matching "landing/**/*.csv" was cancelled',
    );
    expect(ledger.pages).toEqual([]);

    const during = new AbortController();
    const lookup: FilePlanOptions['lookup'] = (keys) => {
      during.abort();
      return ledger.lookup(keys);
    };
    const late = await caught(planFiles(options({ store, lookup, signal: during.signal })));
    expect(late.code).toBe('CANCELLED');
    expect(ledger.pages).toEqual([500]);
  });

  it('cancels a long listing in which nothing matches', async () => {
    const store = new GeneratedListingStore(() => numberedObjects(5000));
    const controller = new AbortController();
    let seen = 0;
    const glob = compileGlob('**/*.json');
    const counting = {
      ...glob,
      matches: (key: string): boolean => {
        seen++;
        if (seen === 1200) controller.abort();
        return glob.matches(key);
      },
    };
    const error = await caught(planFiles(options({ store, glob: counting, signal: controller.signal })));
    expect(error.code).toBe('CANCELLED');
    expect(seen).toBeLessThanOrEqual(1500);
  });

  it('passes a failing ledger lookup on as it is', async () => {
    await tree.write('landing/a.csv', 'a');
    const failure = new EtlError('STATE_STORE', 'state store is locked');
    const error = await caught(
      planFiles(
        options({
          lookup: () => {
            throw failure;
          },
        }),
      ),
    );
    expect(error).toBe(failure);
  });

  it('refuses limits that make no plan', async () => {
    expect((await caught(planFiles(options({ maxFiles: 0 })))).code).toBe('CONFIG_INVALID');
    expect((await caught(planFiles(options({ maxFiles: 1.5 })))).code).toBe('CONFIG_INVALID');
    expect((await caught(planFiles(options({ minAgeMs: -1 })))).code).toBe('CONFIG_INVALID');
  });
});
