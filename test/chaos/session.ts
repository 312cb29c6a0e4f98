/**
 * One chaos session: one seed, one world, rounds of steps until the step count or the deadline.
 *
 * Decisions:
 * - A round gives every pipeline one step; two steps run at a time (the machine has two cores and
 *   each step is a daemon process). Then every destination is read (Delta tables in one delta-rs
 *   process) and checked against the model, in the world's order.
 * - A new round starts only if the previous round's duration still fits before the deadline, and
 *   at most `steps` rounds run; a replay passes `steps` and no deadline, so exactly that many run.
 * - On the first mismatch of a pipeline a diff sample (at most 20 lines) is printed; the session
 *   goes on with every pipeline, so the report is complete.
 * - A harness error in a pipeline's step (its SQL, its files) stops that pipeline, is reported,
 *   and fails the session.
 * - Everything created (databases, proxies, homes) is removed at the end; the homes are kept when
 *   the session failed (the report names the directory).
 * - Fleet mode: each pipeline gets its own fresh state database on the chaos PostgreSQL server and
 *   three homes (fleet-hosts.ts) sharing it; host-a's home stands for the pipeline where one is
 *   needed (the destination is the same for all three).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readDestinations } from './dest-reader.js';
import { deferralBound } from './deferral.js';
import { describeFault } from './fault-plan.js';
import { startFaultProxy, type FaultProxy } from '../helpers/fault-proxy.js';
import { checkStep, emptyModel } from './model.js';
import { createPipelineHome, type PipelineHome } from './pipeline-home.js';
import {
  createPipelineSource,
  dropPipelineSource,
  sharedSourceDatabase,
  type LateTxn,
} from './pipeline-source.js';
import { FLEET_HOSTS, FLEET_LEASE_SECONDS } from './fleet-hosts.js';
import { Prng } from './prng.js';
import { emptyReport, reportOk, type SessionReport } from './report.js';
import type { ChaosServers } from './servers.js';
import { modelColumns } from './source-schema.js';
import { postgresState, FLEET_STATE_URL_ENV, type StateLocation } from './state-location.js';
import { runPipelineStep, type PipelineRuntime, type StepRecord } from './step-runner.js';
import { generateWorld } from './world.js';

export interface SessionOptions {
  readonly seed: number;
  /** Exact number of rounds, or null to run until the deadline. */
  readonly steps: number | null;
  /** Epoch ms; no new round starts when the last round's duration would overrun it (null: no limit). */
  readonly deadlineMs: number | null;
  readonly verbose: boolean;
  readonly log: (line: string) => void;
  /** Unique per process (database names). */
  readonly tag: string;
  /** Three hosts per pipeline sharing a PostgreSQL state store (cli-args.ts). */
  readonly fleet: boolean;
}

const PARALLEL_STEPS = 2;
const MAX_DIFF_LINES = 20;

async function forEachLimited<T>(
  items: readonly T[],
  limit: number,
  work: (item: T) => Promise<void>,
): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const item = items[next++] as T;
      await work(item);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}

function errorLine(output: string): string {
  const lines = output.trimEnd().split('\n');
  const error = [...lines].reverse().find((l) => l.startsWith('<3>')) ?? lines.at(-1) ?? '';
  return error.replace(/^<\d>/, '').slice(0, 300);
}

function message(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

interface Setup {
  readonly runtimes: PipelineRuntime[];
  readonly proxies: FaultProxy[];
  readonly databases: { drop: () => Promise<void> }[];
}

async function setUp(servers: ChaosServers, options: SessionOptions, root: string): Promise<Setup> {
  const world = generateWorld(new Prng(options.seed).fork('world'));
  const tag = options.tag;
  const setup: Setup = { runtimes: [], proxies: [], databases: [] };
  const destDatabase = `${tag}_dest`;
  for (const target of [servers.postgres, servers.mysql]) {
    await target.createDatabase(sharedSourceDatabase(tag));
    setup.databases.push({ drop: () => target.dropDatabase(sharedSourceDatabase(tag)) });
  }
  await servers.postgres.createDatabase(destDatabase);
  setup.databases.push({ drop: () => servers.postgres.dropDatabase(destDatabase) });
  const root0 = new Prng(options.seed);
  for (const spec of world.pipelines) {
    const target = spec.source === 'postgres' ? servers.postgres : servers.mysql;
    const source = await createPipelineSource(spec, target, tag);
    setup.databases.push({ drop: () => dropPipelineSource(source) });
    const sourceProxy = await startFaultProxy(target.host, target.port);
    setup.proxies.push(sourceProxy);
    let destProxy: FaultProxy | null = null;
    if (spec.dest === 'postgres') {
      destProxy = await startFaultProxy(servers.postgres.host, servers.postgres.port);
      setup.proxies.push(destProxy);
    }
    const inputs = {
      root,
      source,
      sourceProxyPort: sourceProxy.port,
      destDatabase,
      destTarget: servers.postgres,
      destProxyPort: destProxy?.port ?? null,
      lag: '2m',
    };
    let state: StateLocation;
    let homes: PipelineHome[];
    if (options.fleet) {
      const stateDatabase = `${tag}_state_${spec.name}`;
      await servers.postgres.createDatabase(stateDatabase);
      setup.databases.push({ drop: () => servers.postgres.dropDatabase(stateDatabase) });
      state = postgresState(servers.postgres, stateDatabase);
      homes = FLEET_HOSTS.map((name) =>
        createPipelineHome({
          ...inputs,
          host: { name, stateUrlEnv: FLEET_STATE_URL_ENV, leaseSeconds: FLEET_LEASE_SECONDS },
        }),
      );
    } else {
      const single = createPipelineHome(inputs);
      state = { kind: 'sqlite', file: single.stateDb };
      homes = [single];
    }
    const home = homes[0] as PipelineHome;
    setup.runtimes.push({
      source,
      home,
      fleet: options.fleet ? { homes, prng: root0.fork('fleet').fork(spec.name) } : null,
      state,
      sourceProxy,
      destProxy,
      prng: root0.fork(spec.name),
      model: emptyModel(modelColumns(spec, 0)),
      broken: null,
      diffPrinted: false,
      reported: new Set(),
    });
  }
  return setup;
}

async function tearDown(setup: Setup): Promise<void> {
  for (const proxy of setup.proxies) await proxy.close();
  for (const db of [...setup.databases].reverse()) await db.drop().catch(() => undefined);
}

function verify(
  report: SessionReport,
  rt: PipelineRuntime,
  record: StepRecord,
  rows: Parameters<typeof checkStep>[2],
  lateTxns: readonly LateTxn[],
  options: SessionOptions,
): void {
  const spec = rt.source.spec;
  const verdict = checkStep(
    rt.model,
    {
      spec,
      columns: record.columns,
      snapshot: record.snapshot,
      outcome: record.outcome,
      deferFrom: deferralBound(spec, record, lateTxns),
    },
    rows,
  );
  const applied = record.faultApplied
    ? record.fired
      ? ' (fired)'
      : ' (did not fire)'
    : ` (not applied: ${record.faultNote})`;
  const faultText = record.fault === null ? 'no fault' : `${describeFault(record.fault)}${applied}`;
  const exit =
    record.run.exitCode !== null ? `exit ${record.run.exitCode}` : (record.run.signal ?? 'no exit');
  const recovered =
    record.recovery === null
      ? ''
      : `, ${record.takeover === null ? 'restart' : 'takeover'} recovered: ${record.recovery.status}`;
  if (record.recovery !== null) report.recoveries++;
  if (record.takeover !== null) {
    report.takeovers++;
    if (record.takeover.leaseLive) report.takeoversWhileLeaseLive++;
  }
  if (record.paused !== null) report.pausedHosts++;
  const pausedText =
    record.paused === null
      ? ''
      : `, paused instead of killed; woken after, it ended: ${record.paused.wokenExit}`;
  const where =
    record.host === null
      ? ''
      : ` on ${record.host}${record.takeover === null ? '' : `, taken over by ${record.takeover.host}${record.takeover.leaseLive ? ' when the lease expired' : ' at its start-up'}`}${pausedText}`;
  const runText = `${record.outcome} (${exit} in ${(record.run.durationMs / 1000).toFixed(1)} s${where}${recovered})`;
  // Each distinct problem counts once: a merge identity still missing at the next check is the same loss.
  const fresh = verdict.problems.filter((p) => !rt.reported.has(p.line));
  for (const p of fresh) rt.reported.add(p.line);
  const count = (kind: string): number => fresh.filter((p) => p.kind === kind).length;
  const [lost, duplicated, wrong] = [count('lost'), count('duplicated'), count('wrong')];
  report.rowsCompared += verdict.compared;
  report.lost += lost;
  report.duplicated += duplicated;
  report.wrong += wrong;
  if (options.verbose) {
    const w = record.workload;
    const changes = `+${w.inserted} ~${w.updated} -${w.deleted}${w.identical ? ` =${w.identical}` : ''}${w.lateRows ? ` late ${w.lateRows}` : ''}${w.addedColumn ? ' +column' : ''}`;
    const check = verdict.ok ? 'ok' : `${verdict.problems.length} differences (${fresh.length} new)`;
    options.log(
      `  ${spec.name} step ${record.step}: ${changes}; ${faultText}; ${runText}; ${verdict.resolution}, ${check}`,
    );
  }
  if (fresh.length > 0) {
    report.findings.push({
      pipeline: spec.name,
      summary: spec.summary,
      step: record.step,
      fault: faultText,
      outcome: runText,
      resolution: verdict.resolution,
      lost,
      duplicated,
      wrong,
    });
    if (!rt.diffPrinted) {
      rt.diffPrinted = true;
      const header = `mismatch ${spec.name} [${spec.summary}] step ${record.step}, ${faultText}, run ${runText}, checked as ${verdict.resolution}: lost ${lost}, duplicated ${duplicated}, wrong ${wrong}`;
      const lines = [header, ...fresh.slice(0, MAX_DIFF_LINES - 2).map((p) => `  ${p.line}`)];
      if (fresh.length > MAX_DIFF_LINES - 2) lines.push(`  … ${fresh.length - (MAX_DIFF_LINES - 2)} more`);
      report.diffs.push(lines);
      if (options.verbose) for (const line of lines) options.log(line);
      else options.log(`${header} (sample in the report)`);
    }
  }
  const problem = (detail: string): { pipeline: string; step: number; detail: string } => ({
    pipeline: spec.name,
    step: record.step,
    detail,
  });
  if (verdict.mustFail !== null && record.outcome === 'succeeded') {
    report.mustFailViolations.push(problem(`the snapshot had ${verdict.mustFail}, yet the run succeeded`));
  }
  if (
    record.outcome !== 'succeeded' &&
    !record.faultApplied &&
    verdict.mustFail === null &&
    !record.run.hung
  ) {
    report.unexpectedFailures.push(problem(`${runText}: ${errorLine(record.run.output)}`));
  }
  if (record.recovery !== null && record.run.signal === null && !record.run.hung) {
    report.onceUnfinished.push(
      problem(`etld --once ${exit} while its run was unfinished; ${errorLine(record.run.output)}`),
    );
  }
  if (record.run.hung)
    report.hung.push(problem(`still running after ${record.run.durationMs} ms (${faultText}); killed`));
  if (record.recovery !== null && record.outcome === 'killed') {
    report.hung.push(
      problem(
        `the restarted daemon did not finish the interrupted run within its time (status ${record.recovery.status})`,
      ),
    );
  }
  if (record.daemonVerdict === 'mismatch')
    report.verdictMismatches.push(problem('the run reported reconciliation verdict mismatch'));
}

export async function runSession(servers: ChaosServers, options: SessionOptions): Promise<SessionReport> {
  const started = Date.now();
  const root = mkdtempSync(join(tmpdir(), `etld-chaos-${options.seed}-`));
  const setup = await setUp(servers, options, root);
  const report = emptyReport(
    options.seed,
    setup.runtimes.map((rt) => ({ name: rt.source.spec.name, summary: rt.source.spec.summary })),
    root,
    options.fleet,
  );
  const lateTxns: LateTxn[] = [];
  options.log(
    `seed ${options.seed}: ${setup.runtimes.length} pipelines${options.fleet ? `, fleet of ${FLEET_HOSTS.length} hosts each` : ''}, work dir ${root}`,
  );
  for (const rt of setup.runtimes) options.log(`  ${rt.source.spec.name}: ${rt.source.spec.summary}`);
  try {
    let lastRoundMs = 0;
    while (options.steps === null ? true : report.rounds < options.steps) {
      if (options.deadlineMs !== null && Date.now() + lastRoundMs > options.deadlineMs) break;
      const roundStart = Date.now();
      const round = ++report.rounds;
      const records = new Map<PipelineRuntime, StepRecord>();
      await forEachLimited(
        setup.runtimes.filter((rt) => rt.broken === null),
        PARALLEL_STEPS,
        async (rt) => {
          try {
            const record = await runPipelineStep(rt, round);
            records.set(rt, record);
            if (record.lateTxn !== null) lateTxns.push(record.lateTxn);
          } catch (error) {
            rt.broken = message(error);
            report.harnessErrors.push({ pipeline: rt.source.spec.name, step: round, detail: rt.broken });
          }
        },
      );
      const checked = setup.runtimes.filter((rt) => records.has(rt));
      const reads = await readDestinations(
        checked.map((rt) => ({ location: rt.home.destination, columns: records.get(rt)?.columns ?? [] })),
      );
      checked.forEach((rt, i) => {
        const record = records.get(rt) as StepRecord;
        const read = reads[i];
        report.runs++;
        if (record.fault !== null) {
          const tally = report.faults[record.fault.kind];
          if (record.faultApplied) {
            tally.injected++;
            if (record.fired) tally.fired++;
          } else {
            tally.unavailable++;
            report.unavailableReasons[record.fault.kind] ??= record.faultNote;
          }
        }
        if (read === undefined || read.error !== undefined) {
          report.readErrors.push({
            pipeline: rt.source.spec.name,
            step: round,
            detail: read?.error ?? 'not read',
          });
          return;
        }
        verify(report, rt, record, read.rows, lateTxns, options);
      });
      lastRoundMs = Date.now() - roundStart;
      const bad = report.lost + report.duplicated + report.wrong;
      options.log(
        `round ${round} done in ${(lastRoundMs / 1000).toFixed(1)} s (${report.runs} runs, ${bad} rows mismatched so far)`,
      );
    }
  } finally {
    report.wallSeconds = (Date.now() - started) / 1000;
    await tearDown(setup);
    if (reportOk(report)) rmSync(root, { recursive: true, force: true });
  }
  return report;
}
