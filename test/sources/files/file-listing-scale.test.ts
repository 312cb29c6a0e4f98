/**
 * planFiles at scale: 100,000 listed objects (generated lazily, no files) with bounded memory and
 * paged ledger lookups, and 2,000 real files in a temp directory through FileStore.
 *
 * Memory is measured as the heap left after a full collection (V8's `gc`, exposed for this file),
 * sampled while the plan is being built; a control measurement shows that the same probe does see
 * 100,000 listed objects when they are all kept, so the bound can fail.
 */
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { compileGlob } from '../../../daemon/sources/files/file-glob.js';
import { LOOKUP_PAGE, planFiles, type RecordedFile } from '../../../daemon/sources/files/file-listing.js';
import type { ObjectInfo } from '../../../daemon/storage/object-store.js';
import {
  fileTree,
  GeneratedListingStore,
  indexOf,
  Ledger,
  NOW,
  numberedObject,
  numberedObjects,
  type FileTree,
} from './listing-fixtures.js';

setFlagsFromString('--expose-gc');
const collectGarbage = runInNewContext('gc') as () => void;

function retainedHeap(): number {
  collectGarbage();
  return process.memoryUsage().heapUsed;
}

const LISTED = 100_000;
const MAX_FILES = 100;
/** Bytes of heap a plan may keep while listing 100,000 objects (it keeps ~600 of them). */
const BOUND = 8 * 1024 * 1024;

/** The objects of the 100,000 not loaded yet: every 1000th, and the very last (the 101st). */
function isNew(index: number): boolean {
  return index % 1000 === 0 || index === LISTED - 1;
}

/** The ledger of the generated listing: every object that is not new was loaded as it is now. */
function generatedLedger(
  pages: number[],
  onPage: (page: number) => void,
): (keys: readonly string[]) => ReadonlyMap<string, RecordedFile> {
  return (keys) => {
    pages.push(keys.length);
    onPage(pages.length);
    const found = new Map<string, RecordedFile>();
    for (const key of keys) {
      const index = indexOf(key);
      if (isNew(index)) continue;
      const { size, version } = numberedObject(index);
      found.set(key, { key, size, version, status: 'loaded' });
    }
    return found;
  };
}

describe('planFiles over 100,000 listed objects', () => {
  it('control: keeping every listed object grows the heap past the bound', async () => {
    const store = new GeneratedListingStore(() => numberedObjects(LISTED));
    const before = retainedHeap();
    const kept: ObjectInfo[] = [];
    for await (const info of store.list('')) kept.push(info);
    const growth = retainedHeap() - before;
    expect(kept).toHaveLength(LISTED);
    expect(growth).toBeGreaterThan(BOUND);
  });

  it('keeps memory bounded, looks up in pages of at most 500 and plans exactly maxFiles', async () => {
    const store = new GeneratedListingStore(() => numberedObjects(LISTED));
    const pages: number[] = [];
    const before = retainedHeap();
    let peakGrowth = 0;
    const lookup = generatedLedger(pages, (page) => {
      if (page % 20 === 0) peakGrowth = Math.max(peakGrowth, retainedHeap() - before);
    });

    const plan = await planFiles({
      store,
      glob: compileGlob('landing/**/*.csv'),
      lookup,
      onChangedFile: 'fail',
      maxFiles: MAX_FILES,
      minAgeMs: 60_000,
      now: NOW,
      select: 'new',
    });

    expect(plan.files).toHaveLength(MAX_FILES);
    expect(plan.files.map((file) => indexOf(file.key))).toEqual(
      Array.from({ length: 100 }, (_, i) => i * 1000),
    );
    expect(plan.truncated).toBe(true);
    expect(plan).toMatchObject({ listed: LISTED, matched: LISTED, alreadyLoaded: LISTED - 101 });
    expect(pages).toHaveLength(LISTED / LOOKUP_PAGE);
    expect(Math.max(...pages)).toBeLessThanOrEqual(500);
    expect(pages.reduce((sum, size) => sum + size, 0)).toBe(LISTED);
    expect(peakGrowth).toBeGreaterThan(0);
    expect(peakGrowth).toBeLessThan(BOUND);
  });

  it('stops listing once the plan is full and one more file is waiting', async () => {
    const store = new GeneratedListingStore(() => numberedObjects(LISTED));
    const ledger = new Ledger();
    const plan = await planFiles({
      store,
      glob: compileGlob('**/*.csv'),
      lookup: ledger.lookup,
      onChangedFile: 'fail',
      maxFiles: MAX_FILES,
      minAgeMs: 0,
      now: NOW,
      select: 'new',
    });
    expect(plan.files.map((file) => file.key)).toEqual(
      Array.from({ length: 100 }, (_, i) => numberedObject(i).key),
    );
    expect(plan.truncated).toBe(true);
    expect(plan.listed).toBe(LOOKUP_PAGE);
    expect(ledger.pages).toEqual([LOOKUP_PAGE]);
  });
});

describe('planFiles over 2,000 real files', () => {
  let tree: FileTree;

  beforeEach(async () => {
    tree = await fileTree();
  });

  afterEach(async () => {
    await tree.remove();
  });

  it('plans them all in key order, then only what was not loaded', async () => {
    const keys: string[] = [];
    for (let day = 1; day <= 20; day++) {
      for (let part = 0; part < 100; part++) {
        const key = `exports/2026-12-${String(day).padStart(2, '0')}/part ${String(part).padStart(3, '0')}.csv`;
        keys.push(key);
        await tree.write(key, `id\n${part}\n`);
      }
      await tree.write(`exports/2026-12-${String(day).padStart(2, '0')}/_SUCCESS`, '');
    }
    const ledger = new Ledger();
    const options = {
      store: tree.store,
      glob: compileGlob('exports/*/*.csv'),
      lookup: ledger.lookup,
      onChangedFile: 'fail',
      maxFiles: 5000,
      minAgeMs: 60_000,
      now: NOW,
      select: 'new',
    } as const;

    const first = await planFiles(options);
    expect(first.files.map((file) => file.key)).toEqual([...keys].sort());
    expect(first).toMatchObject({ listed: 2020, matched: 2000, truncated: false });
    expect(first.bytes).toBe(first.files.reduce((sum, file) => sum + file.size, 0));
    expect(ledger.pages).toEqual([500, 500, 500, 500]);

    ledger.record(first.files.slice(0, 1500));
    const second = await planFiles(options);
    expect(second.files.map((file) => file.key)).toEqual(first.files.slice(1500).map((file) => file.key));
    expect(second).toMatchObject({ alreadyLoaded: 1500, truncated: false });
  });
});
