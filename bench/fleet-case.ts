/**
 * The fleet comparison (`--fleet N`): one chunked table loaded by one etld daemon with a
 * PostgreSQL state store (a fleet of one), and by N daemons sharing one such store, in the same
 * bench run. A run stays on the host that holds the pipeline's run lease (docs/fleet.md), so the
 * N hosts are not expected to be faster: what differs between the two is the fleet's coordination
 * (claims, leases, heartbeats) and the other hosts' idle load on the same machine.
 *
 * Every run starts from nothing: a new state database, new homes, an empty lake, daemons started
 * anew, so no run inherits another's state, and the VmHWM of the host that ran it is the peak of
 * that daemon's life (start-up and run), as GNU time reports it for the `etld --once` cases. The
 * fleet is left idle for SETTLE_MS, then the run is started with `etlctl start <pipeline> --wait`
 * on the first host. The two setups alternate run by run, as runTwins does, so drift in the
 * machine's load falls on both.
 */
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import type { PostgresServer } from '../test/helpers/postgres-server.js';
import { runCommand, type CommandResult } from '../test/helpers/process.js';
import { chunkedPgDelta, pipelineYaml, type Connection } from './cases.js';
import { countDeltaRows } from './delta-count.js';
import { startFleet, type Fleet } from './fleet-hosts.js';
import { cpuSeconds, memory } from './proc-status.js';

/** fleet.lease of every host: etld's default. */
const LEASE_SECONDS = 30;
/** Idle time between the fleet being formed and the run: its start-up work is over by then. */
const SETTLE_MS = 5_000;
/** How often the run lease is looked up while the run goes on (one indexed read). */
const LEASE_POLL_MS = 200;
/** Chunks of the table, all read at once: the bench's `postgres → delta chunked p2` case. */
const PARALLELISM = 2;

export interface FleetRun {
  /** `etlctl start --wait`, from its spawn to its exit. */
  readonly seconds: number;
  /** The run's own record: started_at to finished_at. */
  readonly recordedSeconds: number;
  /** The hosts seen holding the pipeline's run lease while it ran. */
  readonly ranOn: readonly string[];
  /** VmHWM of the host the run was started on, after the run. */
  readonly peakRssMb: number;
  /** CPU that host used from the start request until the run ended. */
  readonly cpuSeconds: number;
  /** CPU the other hosts used meanwhile, added up (0 for one host). */
  readonly otherHostsCpuSeconds: number;
  /** The highest VmHWM of the other hosts (NaN for one host). */
  readonly otherHostsPeakRssMb: number;
}

export interface FleetSetupResult {
  readonly hosts: number;
  /** The runs that passed their checks; after a failure the setup gets no more runs. */
  readonly runs: readonly FleetRun[];
  readonly error: string | null;
}

export interface FleetResult {
  readonly case: string;
  readonly pipeline: string;
  readonly rows: number;
  readonly chunkRows: number;
  readonly parallelism: number;
  readonly leaseSeconds: number;
  readonly settleSeconds: number;
  /** The host every run was started on. */
  readonly startedOn: string;
  /** One host, then N hosts. */
  readonly setups: readonly FleetSetupResult[];
}

export interface FleetCaseContext {
  readonly rows: number;
  readonly repeat: number;
  /** N, the hosts of the second setup. */
  readonly hosts: number;
  /** The server the state databases are created in (the source's server). */
  readonly server: Pick<PostgresServer, 'createDatabase' | 'url'>;
  readonly source: Connection;
  readonly workDir: string;
  readonly nodePath: string;
  readonly etldMain: string;
  readonly etlctlMain: string;
  readonly env: NodeJS.ProcessEnv;
  readonly log: (text: string) => void;
  /** Aborted when the bench is interrupted: the run in progress is given up and its fleet stopped. */
  readonly signal: AbortSignal;
}

function hostName(index: number): string {
  return `bench-${index + 1}`;
}

/** What watchLease saw: every host that held the lease, and why it stopped looking if it failed. */
interface LeaseHolders {
  readonly hosts: readonly string[];
  readonly error: string | null;
}

/**
 * Looks up which host holds the pipeline's run lease until stopped. stop() never rejects, and a
 * second call answers as the first.
 */
function watchLease(stateUrl: string, pipeline: string): { stop(): Promise<LeaseHolders> } {
  const hosts: string[] = [];
  let stopping = false;
  const watching = (async (): Promise<string | null> => {
    const client = new pg.Client({ connectionString: stateUrl });
    // A connection cut while idle is reported by the next query; unheard, it would end the bench.
    client.on('error', () => undefined);
    try {
      await client.connect();
      while (!stopping) {
        const result = await client.query<{ host: string }>(
          'SELECT host FROM fleet_run_leases WHERE pipeline = $1',
          [pipeline],
        );
        for (const { host } of result.rows) if (!hosts.includes(host)) hosts.push(host);
        await sleep(LEASE_POLL_MS);
      }
      return null;
    } catch (error) {
      return `the run lease could not be looked up: ${error instanceof Error ? error.message : String(error)}`;
    } finally {
      await client.end().catch(() => undefined);
    }
  })();
  return {
    stop: async () => {
      stopping = true;
      return { hosts, error: await watching };
    },
  };
}

/** A run that passed every check, or why it did not. */
type RunOutcome =
  { readonly run: FleetRun; readonly error: null } | { readonly run: null; readonly error: string };

interface StartOutput {
  readonly status?: string;
  readonly rows_loaded?: number;
  readonly started_at?: string | null;
  readonly finished_at?: string | null;
}

interface Started {
  readonly result: CommandResult;
  readonly seconds: number;
  /** Per host, in the fleet's order: CPU seconds used during the run, VmHWM after it. */
  readonly cpuUsed: readonly number[];
  readonly peaks: readonly number[];
}

/** `etlctl start --wait` on the fleet's first host, and what each host used meanwhile. */
async function startRun(fleet: Fleet, pipeline: string, ctx: FleetCaseContext): Promise<Started> {
  const [first] = fleet.hosts;
  if (first === undefined) throw new Error('a fleet without hosts');
  const cpu = (): number[] => fleet.hosts.map((h) => cpuSeconds(h.pid) ?? Number.NaN);
  const cpuBefore = cpu();
  const started = performance.now();
  const result = await runCommand(
    ctx.nodePath,
    [ctx.etlctlMain, '--home', first.home, '--json', 'start', pipeline, '--wait'],
    { env: ctx.env, signal: ctx.signal },
  );
  const seconds = (performance.now() - started) / 1000;
  // Whole clock ticks: the subtraction would otherwise print as 0.010000000000000009.
  const cpuUsed = cpu().map((after, i) => Math.round((after - (cpuBefore[i] ?? Number.NaN)) * 100) / 100);
  return { result, seconds, cpuUsed, peaks: fleet.hosts.map((h) => memory(h.pid)?.hwm ?? Number.NaN) };
}

/** Runs the pipeline once on the fleet's first host and checks it; a failed check is the error. */
async function runOnFleet(
  fleet: Fleet,
  stateUrl: string,
  pipeline: string,
  ctx: FleetCaseContext,
): Promise<RunOutcome> {
  const lease = watchLease(stateUrl, pipeline);
  // Stopped whatever happens: its connection must be closed before the server goes.
  const { result, seconds, cpuUsed, peaks } = await startRun(fleet, pipeline, ctx).finally(() =>
    lease.stop(),
  );
  const holders = await lease.stop();
  if (result.code !== 0) {
    const reason = `${result.stderr}\n${result.stdout}`.trim().split('\n').slice(-3).join(' | ');
    return { run: null, error: `etlctl start --wait exited ${result.code}: ${reason}` };
  }
  if (holders.error !== null) return { run: null, error: holders.error };
  const record = JSON.parse(result.stdout) as StartOutput;
  if (record.status !== 'succeeded' || record.rows_loaded !== ctx.rows) {
    return {
      run: null,
      error: `run ${record.status ?? 'unknown'}, ${record.rows_loaded ?? 0} of ${ctx.rows} rows loaded`,
    };
  }
  const count = await countDeltaRows(join(fleet.lakeDir, pipeline));
  if (count !== ctx.rows) {
    const what =
      typeof count === 'number'
        ? `wrote ${count.toLocaleString('en-US')} of ${ctx.rows.toLocaleString('en-US')} rows`
        : `output unreadable (${count})`;
    return { run: null, error: what };
  }
  return {
    run: {
      seconds,
      recordedSeconds: (Date.parse(record.finished_at ?? '') - Date.parse(record.started_at ?? '')) / 1000,
      ranOn: holders.hosts,
      peakRssMb: peaks[0] ?? Number.NaN,
      cpuSeconds: cpuUsed[0] ?? Number.NaN,
      otherHostsCpuSeconds: cpuUsed.slice(1).reduce((sum, s) => sum + s, 0),
      otherHostsPeakRssMb: peaks.length === 1 ? Number.NaN : Math.max(...peaks.slice(1)),
    },
    error: null,
  };
}

/** One run of one setup, from a new state database to the stopped fleet and its removed files. */
async function runSetupOnce(hosts: number, index: number, ctx: FleetCaseContext): Promise<RunOutcome> {
  const spec = chunkedPgDelta(ctx.rows, PARALLELISM);
  const database = `fleet_state_${hosts}_${index + 1}`;
  await ctx.server.createDatabase(database);
  const stateUrl = ctx.server.url(database);
  const dir = join(ctx.workDir, 'fleet', `${hosts}-hosts-run-${index + 1}`);
  try {
    const fleet = await startFleet({
      nodePath: ctx.nodePath,
      etldMain: ctx.etldMain,
      dir,
      stateUrl,
      hostNames: Array.from({ length: hosts }, (_, i) => hostName(i)),
      leaseSeconds: LEASE_SECONDS,
      pipeline: { name: spec.name, yaml: pipelineYaml(spec, ctx.source) },
      env: ctx.env,
      signal: ctx.signal,
    });
    try {
      await sleep(SETTLE_MS, undefined, { signal: ctx.signal });
      return await runOnFleet(fleet, stateUrl, spec.name, ctx);
    } finally {
      await fleet.stop();
    }
  } catch (error) {
    if (ctx.signal.aborted) throw error;
    return { run: null, error: error instanceof Error ? error.message : String(error) };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export function setupLabel(hosts: number): string {
  return hosts === 1 ? '1 host' : `${hosts} hosts`;
}

export async function runFleetCase(ctx: FleetCaseContext): Promise<FleetResult> {
  const spec = chunkedPgDelta(ctx.rows, PARALLELISM);
  const setups = [1, ctx.hosts].map((hosts) => ({
    hosts,
    runs: [] as FleetRun[],
    error: null as string | null,
  }));
  for (let i = 0; i < ctx.repeat; i++) {
    for (const setup of setups) {
      if (setup.error !== null) continue;
      ctx.signal.throwIfAborted();
      ctx.log(`${spec.label} on ${setupLabel(setup.hosts)} run ${i + 1}/${ctx.repeat}… `);
      const { run, error } = await runSetupOnce(setup.hosts, i, ctx);
      if (run === null) {
        setup.error = error;
        ctx.log(`failed: ${setup.error}\n`);
        continue;
      }
      setup.runs.push(run);
      ctx.log(
        `${run.seconds.toFixed(2)} s on ${run.ranOn.join(', ') || '?'}, ${run.peakRssMb.toFixed(0)} MB, ` +
          `${run.cpuSeconds.toFixed(1)} CPU s (other hosts ${run.otherHostsCpuSeconds.toFixed(1)})\n`,
      );
    }
  }
  return {
    case: spec.label,
    pipeline: spec.name,
    rows: ctx.rows,
    chunkRows: spec.chunk?.rows ?? ctx.rows,
    parallelism: PARALLELISM,
    leaseSeconds: LEASE_SECONDS,
    settleSeconds: SETTLE_MS / 1000,
    startedOn: hostName(0),
    setups,
  };
}
