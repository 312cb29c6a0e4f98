/**
 * The chaos harness inside `npm test`: one session with a random seed (or ETLD_CHAOS_SEED) under a
 * bounded time budget (about 4 minutes including server start), then every seed of
 * regression-seeds.ts with its exact step count. Any mismatch fails the test with the whole report
 * (seed, figures, diff samples, replay command) as the failure message. Then one fleet-mode session
 * (`--fleet`: three hosts per pipeline sharing a PostgreSQL state store) with its own random seed
 * and a budget of about 2 minutes: two rounds, enough for a few takeovers after kills.
 *
 * Decisions: the daemon must already be built (npm test's typecheck step emits dist/); no vitest
 * retry (a replayed failure would only cost another four minutes and hide nothing).
 */
import { afterAll, beforeAll, describe, it } from 'vitest';
import { randomSeed } from './prng.js';
import { REGRESSION_SEEDS } from './regression-seeds.js';
import { formatReport, reportOk } from './report.js';
import { assertDaemonBuilt } from '../helpers/repo-paths.js';
import { startServers, type ChaosServers } from './servers.js';
import { runSession, type SessionOptions } from './session.js';

/** The random session's budget after the servers are up; a round started in time may overrun it. */
const SESSION_BUDGET_MS = 235_000;
/** The fleet session's budget: a round of 23 pipelines takes 30–50 s there. */
const FLEET_BUDGET_MS = 100_000;

let servers: ChaosServers | undefined;
let sessions = 0;

beforeAll(async () => {
  assertDaemonBuilt();
  servers = await startServers();
}, 180_000);

afterAll(async () => {
  await servers?.stop();
}, 120_000);

async function session(
  options: Pick<SessionOptions, 'seed' | 'steps' | 'deadlineMs'> & { fleet?: boolean },
): Promise<void> {
  if (servers === undefined) throw new Error('the servers did not start');
  const lines: string[] = [];
  const report = await runSession(servers, {
    ...options,
    verbose: false,
    fleet: options.fleet ?? false,
    log: (line) => lines.push(line),
    tag: `chaost${process.pid}_${++sessions}`,
  });
  const text = formatReport(report);
  process.stdout.write(`${text}\n`);
  if (!reportOk(report)) throw new Error(`${text}\n\nsession log:\n${lines.slice(-60).join('\n')}`);
}

describe('chaos: etld against real sources under injected faults', () => {
  it(
    'a random seed within the time budget loses, duplicates and corrupts no row',
    { timeout: 420_000, retry: 0 },
    async () => {
      const fromEnv = process.env.ETLD_CHAOS_SEED;
      const seed = fromEnv !== undefined && fromEnv !== '' ? Number(fromEnv) : randomSeed();
      await session({ seed, steps: null, deadlineMs: Date.now() + SESSION_BUDGET_MS });
    },
  );

  it(
    'fleet mode: a random seed on three hosts per pipeline loses, duplicates and corrupts no row',
    { timeout: 300_000, retry: 0 },
    async () => {
      await session({
        seed: randomSeed(),
        steps: null,
        deadlineMs: Date.now() + FLEET_BUDGET_MS,
        fleet: true,
      });
    },
  );

  for (const entry of REGRESSION_SEEDS) {
    it(
      `regression seed ${entry.seed} (${entry.steps} steps): ${entry.note}`,
      { timeout: 600_000, retry: 0 },
      async () => {
        await session({ seed: entry.seed, steps: entry.steps, deadlineMs: null });
      },
    );
  }
});
