/**
 * `npm run chaos`: the entry point of the chaos harness (built by tsconfig.chaos.json into
 * build/chaos and run with node, against the daemon built into dist/).
 *
 * It starts one PostgreSQL and one MariaDB for the whole process, runs sessions (seeds; see
 * cli-args.ts for how --seed/--steps/--minutes choose them), prints each session's report and exits
 * 0 only when every session passed. A failing session prints `npm run chaos -- --seed N --steps K`.
 *
 * Ctrl-C / SIGTERM: tmpfs mounts are released and the servers stopped before exiting (130).
 */
import { CHAOS_HELP, DEFAULT_SOAK_STEPS, parseChaosArgs } from './cli-args.js';
import { releaseAllTmpfs } from './fault-disk.js';
import { randomSeed } from './prng.js';
import { formatReport, replayCommand, reportOk, type SessionReport } from './report.js';
import { startServers, type ChaosServers } from './servers.js';
import { assertDaemonBuilt } from '../helpers/repo-paths.js';
import { runSession } from './session.js';

const say = (line: string): void => {
  process.stdout.write(`${line}\n`);
};

async function main(): Promise<number> {
  let args;
  try {
    args = parseChaosArgs(process.argv.slice(2));
  } catch (error) {
    process.stderr.write(`chaos: ${error instanceof Error ? error.message : String(error)}\n\n${CHAOS_HELP}`);
    return 2;
  }
  if (args.help) {
    say(CHAOS_HELP);
    return 0;
  }
  assertDaemonBuilt();
  const started = Date.now();
  const deadlineMs = started + args.minutes * 60_000;
  const replay = args.seed !== null && args.steps !== null;
  say(
    replay
      ? `etld chaos: replay of seed ${args.seed} with ${args.steps} steps${args.fleet ? ' (fleet)' : ''}`
      : `etld chaos: budget ${args.minutes} min${args.seed !== null ? `, seed ${args.seed}` : ''}${args.fleet ? ' (fleet)' : ''}`,
  );
  const running: { servers?: ChaosServers } = {};
  const stopOnSignal = (): void => {
    releaseAllTmpfs();
    void (running.servers?.stop() ?? Promise.resolve()).finally(() => process.exit(130));
  };
  process.once('SIGINT', stopOnSignal);
  process.once('SIGTERM', stopOnSignal);

  const servers = await startServers();
  running.servers = servers;
  say(`servers up in ${servers.startSeconds.toFixed(1)} s`);
  const reports: SessionReport[] = [];
  try {
    let index = 0;
    do {
      const seed = args.seed ?? randomSeed();
      index++;
      const report = await runSession(servers, {
        seed,
        steps: args.seed !== null ? args.steps : (args.steps ?? DEFAULT_SOAK_STEPS),
        deadlineMs: replay ? null : deadlineMs,
        verbose: args.verbose,
        fleet: args.fleet,
        log: say,
        tag: `chaos${process.pid}_${index}`,
      });
      reports.push(report);
      say(formatReport(report));
    } while (args.seed === null && Date.now() < deadlineMs - 60_000);
  } finally {
    await servers.stop();
  }
  const failed = reports.filter((r) => !reportOk(r));
  if (reports.length > 1) {
    say(
      `\n${reports.length} seeds in ${((Date.now() - started) / 1000).toFixed(0)} s: ${failed.length} failed`,
    );
    for (const r of failed) say(`  ${replayCommand(r)}`);
  }
  return failed.length === 0 ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    releaseAllTmpfs();
    process.stderr.write(
      `chaos: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
    );
    process.exit(1);
  },
);
