/**
 * Delta checkpoints through the run engine, with the daemon's DuckDB budgets: a pipeline whose
 * runs cross `delta.checkpointInterval` gets `_delta_log/<v>.checkpoint.parquet` and
 * `_last_checkpoint`, delta-rs reads the table from the checkpoint alone, and no run logs an error.
 */
import { cp, readdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { FanoutLogger, type LogRecord } from '../../daemon/logging/logger.js';
import { readWithOracle } from '../conformance/delta-oracle.js';
import { startPostgres, type PostgresServer } from '../helpers/postgres-server.js';
import { createHarness, databaseFactory, pgConnection, type Harness } from './engine-harness.js';

let pg: PostgresServer;
let h: Harness;

beforeAll(async () => {
  pg = await startPostgres();
});
afterAll(async () => {
  await pg.destroy();
});
beforeEach(() => {
  h = createHarness();
});
afterEach(() => {
  h.destroy();
});

const freshDb = databaseFactory(() => pg, 'checkpoint');

describe('Delta checkpoints in runs', () => {
  it('a run that commits version 10 writes the checkpoint and _last_checkpoint; delta-rs reads the table from it', async () => {
    const db = await freshDb(`
      CREATE TABLE events (id bigint PRIMARY KEY, payload text, updated_at timestamptz NOT NULL);
      INSERT INTO events SELECT g, repeat(md5(g::text), 8), '2024-01-01'::timestamptz + g * interval '1 second'
        FROM generate_series(1, 2000) g;`);
    const p = h.pipeline({
      name: 'events',
      source: { type: 'postgres', connection: pgConnection(pg, db), table: 'events', key: ['id'] },
      load: { mode: 'incremental', cursor: 'updated_at' },
      destination: { type: 'delta', path: 'events' },
    });
    const records: LogRecord[] = [];
    const logger = new FanoutLogger([{ write: (r) => records.push(r) }]);
    let total = 2000;
    for (let run = 0; run <= 10; run++) {
      if (run > 0) {
        await pg.query(
          `INSERT INTO events SELECT g, 'n', '2025-01-01'::timestamptz + g * interval '1 second'
             FROM generate_series(${total + 1}, ${total + 100}) g`,
          [],
          db,
        );
        total += 100;
      }
      const outcome = await h.run(p, { logger });
      expect(outcome.rowsLoaded).toBe(run === 0 ? 2000 : 100);
    }
    const table = join(h.lakeDir, 'events');
    const log = await readdir(join(table, '_delta_log'));
    expect(log).toContain('00000000000000000010.checkpoint.parquet');
    expect(JSON.parse(await readFile(join(table, '_delta_log', '_last_checkpoint'), 'utf8'))).toMatchObject({
      version: 10,
      numOfAddFiles: 11,
    });
    expect(records.filter((r) => r.level === 'error' || r.level === 'warning').map((r) => r.message)).toEqual(
      [],
    );
    const committed = records.find((r) => r.message.startsWith('committed sequence 11'));
    expect(committed?.fields.checkpoint).toBe(10);

    // delta-rs reads the checkpoint: a copy without the JSON it replaces has every row.
    const copy = join(h.dir, 'from-checkpoint');
    await cp(table, copy, { recursive: true });
    for (let v = 0; v < 10; v++) await rm(join(copy, '_delta_log', `${String(v).padStart(20, '0')}.json`));
    const read = (await readWithOracle('deltalake', [copy]))[copy];
    expect(read?.error).toBeUndefined();
    expect(read?.version).toBe(10);
    expect(read?.rows).toHaveLength(total);
  });
});
