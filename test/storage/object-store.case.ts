/**
 * The ObjectStore contract, run against every backend (a local directory, S3 on moto, GCS on
 * fake-gcs-server, Azure on Azurite). Each backend's test file supplies a fixture that opens a
 * fresh store (a new bucket or directory per test) with the given tuning.
 */
import { createHash, randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ObjectInfo, ObjectStore } from '../../daemon/storage/object-store.js';
import type { StoreTuning } from '../../daemon/storage/store-tuning.js';

export interface StoreFixture {
  /** A store rooted at one fresh place per `root` name; stores opened with one name share it. */
  open(root: string, tuning?: StoreTuning): Promise<ObjectStore>;
  /** Whether `upload` has a multipart path to check (the file store has none). */
  readonly multipart: boolean;
  stop(): Promise<void>;
}

/** The smallest part S3 accepts (every part but the last). */
const PART = 5 * 1024 * 1024;

async function collect(iterable: AsyncIterable<ObjectInfo>): Promise<ObjectInfo[]> {
  const out: ObjectInfo[] = [];
  for await (const info of iterable) out.push(info);
  return out;
}

const text = (bytes: Uint8Array | undefined): string | undefined =>
  bytes === undefined ? undefined : Buffer.from(bytes).toString('utf8');

/** A seeded generator (mulberry32), so a failing order can be replayed. */
function seeded(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function objectStoreContract(name: string, start: () => Promise<StoreFixture>): void {
  describe(`ObjectStore contract: ${name}`, () => {
    let fixture: StoreFixture;
    let scratch: string;
    const opened: ObjectStore[] = [];
    let roots = 0;
    const open = async (tuning?: StoreTuning, root = `root-${++roots}`): Promise<ObjectStore> => {
      const store = await fixture.open(root, tuning);
      opened.push(store);
      return store;
    };

    beforeAll(async () => {
      fixture = await start();
      scratch = await mkdtemp(join(tmpdir(), 'etld-store-contract-'));
    });
    afterAll(async () => {
      for (const store of opened) await store.close();
      await fixture?.stop();
      if (scratch !== undefined) await rm(scratch, { recursive: true, force: true });
    });

    it('answers undefined / false for a missing object, and creates no local file', async () => {
      const store = await open();
      expect(await store.get('nope.json')).toBeUndefined();
      expect(await store.head('_delta_log/nope.json')).toBeUndefined();
      const local = join(scratch, 'missing-download');
      expect(await store.download('nope.json', local)).toBe(false);
      expect(existsSync(local)).toBe(false);
      expect(await collect(store.list(''))).toEqual([]);
    });

    it('puts, reads back, replaces (the version changes) and heads', async () => {
      const store = await open();
      await store.put('_delta_log/00000000000000000000.json', '{"a":1}\n');
      expect(text(await store.get('_delta_log/00000000000000000000.json'))).toBe('{"a":1}\n');
      const first = await store.head('_delta_log/00000000000000000000.json');
      expect(first).toMatchObject({ key: '_delta_log/00000000000000000000.json', size: 8 });
      expect(first?.version).not.toBe('');
      await store.put('_delta_log/00000000000000000000.json', new Uint8Array([1, 2, 3]));
      expect(Array.from((await store.get('_delta_log/00000000000000000000.json')) ?? [])).toEqual([1, 2, 3]);
      const second = await store.head('_delta_log/00000000000000000000.json');
      expect(second?.size).toBe(3);
      expect(second?.version).not.toBe(first?.version);
    });

    it('lists in lexicographic order across many pages, under a prefix and after a key', async () => {
      const store = await open({ listPageSize: 4 });
      const random = seeded(20261201);
      const keys = [
        ...Array.from({ length: 21 }, (_, i) => `_delta_log/${String(i).padStart(20, '0')}.json`),
        '_delta_log/_last_checkpoint',
        'a-b.parquet',
        'a.parquet',
        'a/b.parquet',
        'day=2026-12-01/part-0.parquet',
        'day=2026-12-02/part-0.parquet',
        'z',
      ];
      // Written in a shuffled order: the listing's order is the store's, not the writer's.
      const shuffled = [...keys].sort(() => random() - 0.5);
      for (const key of shuffled) await store.put(key, key);
      const sorted = [...keys].sort();

      const all = await collect(store.list(''));
      expect(all.map((o) => o.key)).toEqual(sorted);
      expect(all.every((o) => o.size === Buffer.byteLength(o.key))).toBe(true);

      const log = await collect(store.list('_delta_log/'));
      expect(log.map((o) => o.key)).toEqual(sorted.filter((k) => k.startsWith('_delta_log/')));

      const after = await collect(
        store.list('_delta_log/', { startAfter: '_delta_log/00000000000000000009.json' }),
      );
      expect(after.map((o) => o.key)).toEqual(
        sorted.filter((k) => k.startsWith('_delta_log/') && k > '_delta_log/00000000000000000009.json'),
      );
      // A startAfter that names no object starts after where it would sort.
      const between = await collect(store.list('', { startAfter: 'a-c' }));
      expect(between.map((o) => o.key)).toEqual(sorted.filter((k) => k > 'a-c'));
      expect(await collect(store.list('day=2026-12-03/'))).toEqual([]);
    });

    it('keeps stores with different roots apart', async () => {
      const one = await open();
      const two = await open();
      await one.put('k', 'one');
      expect(await two.get('k')).toBeUndefined();
      expect(await collect(two.list(''))).toEqual([]);
    });

    it('uploads a file larger than a part in parts, and downloads it back whole', async () => {
      const parts: { key: string; parts: number }[] = [];
      const store = await open({
        partSize: PART,
        onUpload: (key, count) => parts.push({ key, parts: count }),
      });
      const big = join(scratch, 'big.bin');
      const bytes = randomBytes(2 * PART + 123_457);
      await writeFile(big, bytes);
      await store.upload(big, 'part-00000-big.parquet');
      const small = join(scratch, 'small.bin');
      await writeFile(small, 'small');
      await store.upload(small, 'part-00001-small.parquet');
      if (fixture.multipart) {
        expect(parts).toEqual([
          { key: 'part-00000-big.parquet', parts: 3 },
          { key: 'part-00001-small.parquet', parts: 1 },
        ]);
      }
      expect((await store.head('part-00000-big.parquet'))?.size).toBe(bytes.length);
      const back = join(scratch, 'big.back');
      expect(await store.download('part-00000-big.parquet', back)).toBe(true);
      const digest = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');
      expect(digest(await readFile(back))).toBe(digest(bytes));
      // Replacing by upload works too.
      await store.upload(small, 'part-00000-big.parquet');
      expect(text(await store.get('part-00000-big.parquet'))).toBe('small');
    });

    it('deletes a batch, ignoring keys that do not exist', async () => {
      const store = await open({ listPageSize: 7 });
      const keys = Array.from({ length: 30 }, (_, i) => `part-${String(i).padStart(5, '0')}.parquet`);
      for (const key of keys) await store.put(key, 'x');
      await store.delete([...keys.slice(0, 25), 'never-written.parquet', 'dir/never/written']);
      expect((await collect(store.list(''))).map((o) => o.key)).toEqual(keys.slice(25));
      await store.delete([]);
      await store.delete(keys);
      expect(await collect(store.list(''))).toEqual([]);
    });

    it('putIfAbsent creates once, then reports the key taken and keeps the first bytes', async () => {
      const store = await open();
      expect(await store.putIfAbsent('_delta_log/00000000000000000001.json', 'first')).toBe('created');
      expect(await store.putIfAbsent('_delta_log/00000000000000000001.json', 'second')).toBe('exists');
      expect(text(await store.get('_delta_log/00000000000000000001.json'))).toBe('first');
    });

    it('putIfAbsent races: of N writers (separate clients) exactly one wins, and no reader sees a part', async () => {
      const root = `race-${++roots}`;
      const writers = await Promise.all(Array.from({ length: 6 }, () => open(undefined, root)));
      const reader = await open(undefined, root);
      for (let round = 0; round < 3; round++) {
        const key = `_delta_log/${String(round + 1).padStart(20, '0')}.json`;
        // Large enough that a write takes more than one packet, and different per writer.
        const bodies = writers.map((_, i) => Buffer.alloc(256 * 1024, `writer ${i} round ${round};`));
        const seen: (Uint8Array | undefined)[] = [];
        let racing = true;
        const watching = (async () => {
          while (racing) seen.push(await reader.get(key));
        })();
        const outcomes = await Promise.all(writers.map((w, i) => w.putIfAbsent(key, bodies[i]!)));
        racing = false;
        await watching;
        const winners = outcomes.flatMap((o, i) => (o === 'created' ? [i] : []));
        expect(winners, `round ${round}: ${outcomes.join(', ')}`).toHaveLength(1);
        const winner = bodies[winners[0]!]!;
        expect(Buffer.compare(Buffer.from((await reader.get(key))!), winner)).toBe(0);
        for (const value of seen) {
          if (value === undefined) continue;
          expect(Buffer.compare(Buffer.from(value), winner), 'a reader saw something but the winner').toBe(0);
        }
      }
    });
  });
}
