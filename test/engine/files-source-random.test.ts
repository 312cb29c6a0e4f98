/**
 * Seeded random workload against the files source's exactly-once promise: rounds of files
 * arriving (CSV, gzip CSV, NDJSON; some corrupt), runs that crash at a random point of the commit
 * (before the destination commit, after it, after the state store's), retried as the supervisor
 * would, and after every successful run the destination compared row by row with a model: every
 * good file's rows exactly once, no row of a bad file, and the ledger holding each file with the
 * right status. ETLD_FILES_SEED replays one seed; a failing seed becomes a case of SEEDS.
 */
import { mkdirSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterEach, describe, expect, it } from 'vitest';
import { EtlError } from '../../shared/errors.js';
import type { FailpointName } from '../../daemon/engine/engine.js';
import { Prng } from '../chaos/prng.js';
import { createHarness, type Harness } from './engine-harness.js';

const FAILPOINTS: readonly FailpointName[] = [
  'before-destination-commit',
  'after-destination-commit',
  'after-state-commit',
];
const ROUNDS = 8;
const SEEDS = [1, 2, 3];

let h: Harness | undefined;
afterEach(() => {
  h?.destroy();
  h = undefined;
});

interface ModelFile {
  readonly key: string;
  readonly ids: readonly number[];
  readonly good: boolean;
}

function body(format: 'csv' | 'csv.gz' | 'ndjson', ids: readonly number[], prng: Prng): Buffer {
  const values = ids.map((id) => ({ id, name: `n${id}`, amount: (prng.int(0, 99999) / 100).toFixed(2) }));
  if (format === 'ndjson')
    return Buffer.from(
      values.map((v) => JSON.stringify({ ...v, amount: Number(v.amount) })).join('\n') + '\n',
    );
  const text = ['id,name,amount', ...values.map((v) => `${v.id},${v.name},${v.amount}`)].join('\n') + '\n';
  return format === 'csv.gz' ? gzipSync(text) : Buffer.from(text);
}

async function runSeed(seed: number): Promise<void> {
  const prng = new Prng(seed, 'files');
  let armed: FailpointName | undefined;
  const harness = createHarness({
    failpoint: (name) => {
      if (name === armed) {
        armed = undefined;
        throw new EtlError('INTERRUPTED', `failpoint ${name}`);
      }
    },
  });
  h = harness;
  const landing = join(harness.dir, 'landing');
  mkdirSync(landing, { recursive: true });
  const pipeline = harness.pipeline({
    name: 'rnd',
    source: { type: 'files', url: landing, min_age: '0s', on_bad_file: 'skip', parallelism: 3 },
    load: { mode: 'incremental' },
    destination: { type: 'duckdb', path: 'dest.duckdb', table: 'rnd' },
  });
  const files: ModelFile[] = [];
  let nextId = 1;
  let serial = 0;
  for (let round = 1; round <= ROUNDS; round++) {
    const arrivals = prng.int(0, 4);
    for (let i = 0; i < arrivals; i++) {
      const format = prng.pick(['csv', 'csv.gz', 'ndjson'] as const);
      const ids = Array.from({ length: prng.int(0, 6) }, () => nextId++);
      const key = `d${prng.int(1, 3)}/f${String(++serial).padStart(4, '0')}.${format}`;
      const good = !prng.chance(0.15);
      const content = good
        ? body(format, ids, prng)
        : Buffer.concat([gzipSync(Buffer.from('id,name\n1,x\n')).subarray(0, 12), Buffer.from('not data')]);
      const path = join(landing, key);
      mkdirSync(join(path, '..'), { recursive: true });
      writeFileSync(path, content);
      const when = new Date(Date.now() - 60_000);
      utimesSync(path, when, when);
      files.push({ key, ids: good ? ids : [], good });
    }
    if (prng.chance(0.4)) {
      armed = prng.pick(FAILPOINTS);
      const crashed = await harness.run(pipeline).then(
        (outcome) => ({ outcome, error: undefined }),
        (error: unknown) => ({ outcome: undefined, error }),
      );
      // A round with no new good file commits nothing, so no commit failpoint is reached.
      if (crashed.outcome === undefined)
        expect(String(crashed.error), `seed ${seed} round ${round}`).toMatch(/failpoint/);
      else expect(crashed.outcome.verdict, `seed ${seed} round ${round}: armed ${armed}`).toBe('skipped');
    }
    armed = undefined;
    await harness.run(pipeline);
    const loaded = (await harness
      .duck('dest.duckdb', 'SELECT _etl_file, id FROM rnd ORDER BY _etl_file, id')
      .catch(() => [])) as [string, bigint][];
    const expected = files
      .filter((f) => f.good)
      .flatMap((f) => f.ids.map((id) => [f.key, BigInt(id)] as [string, bigint]))
      .sort((a, b) => (a[0] === b[0] ? Number(a[1] - b[1]) : a[0] < b[0] ? -1 : 1));
    expect(loaded, `seed ${seed} round ${round}: rows by file`).toEqual(expected);
    const ledger = harness.store.listSourceFiles('rnd', { limit: 10_000 });
    expect(
      ledger.map((f) => [f.key, f.status]),
      `seed ${seed} round ${round}: ledger`,
    ).toEqual(
      [...files]
        .sort((a, b) => (a.key < b.key ? -1 : 1))
        .map((f) => [f.key, f.good ? 'loaded' : 'quarantined']),
    );
  }
}

describe('files source: seeded random arrivals, bad files and commit crashes', () => {
  const fromEnv = process.env.ETLD_FILES_SEED;
  const seeds =
    fromEnv !== undefined && fromEnv !== '' ? [Number(fromEnv)] : [...SEEDS, Date.now() % 100_000];
  for (const seed of seeds) {
    it(
      `seed ${seed}: every good file loaded exactly once, no bad file's row, ledger exact`,
      { timeout: 180_000 },
      async () => {
        await runSeed(seed);
      },
    );
  }
});
