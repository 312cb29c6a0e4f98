/**
 * A fleet of etld daemons on this machine for the fleet case (fleet-case.ts): one home per host,
 * each with an etld.yaml naming its own `fleet.host_name` and the same PostgreSQL state store, the
 * same pipeline file, and one lake directory shared by every host (as a shared mount or bucket
 * would be between machines, so a run writes the same table whichever host runs it). Each daemon
 * starts as the `etld` command starts it (its launcher's node flags), logging warnings only, as
 * the bench's other etld cases do. The fleet is ready when every control socket lists the
 * pipeline and the store lists every host as running.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import { launcherFlags } from './cases.js';
import { listedPipelines } from './idle.js';

/** The variable etld.yaml names for the state store's URL (`state.url_env`). */
const STATE_URL_ENV = 'ETLD_STATE_URL';
const READY_TIMEOUT_MS = 90_000;
const POLL_MS = 250;
const STOP_TIMEOUT_MS = 30_000;

export interface FleetOptions {
  readonly nodePath: string;
  readonly etldMain: string;
  /** This fleet's directory: the hosts' homes and the shared lake are made in it. */
  readonly dir: string;
  readonly stateUrl: string;
  readonly hostNames: readonly string[];
  readonly leaseSeconds: number;
  readonly pipeline: { readonly name: string; readonly yaml: string };
  readonly env: NodeJS.ProcessEnv;
  readonly signal: AbortSignal;
}

export interface FleetHost {
  readonly name: string;
  readonly home: string;
  readonly pid: number;
}

export interface Fleet {
  readonly hosts: readonly FleetHost[];
  /** Where relative destination paths resolve on every host (`lake_dir`). */
  readonly lakeDir: string;
  /** Ends every daemon: SIGTERM, SIGKILL after 30 s. Safe to call again. */
  stop(): Promise<void>;
}

interface Daemon {
  readonly host: FleetHost;
  readonly child: ChildProcess;
  readonly exited: Promise<void>;
  /** The end of its stdout and stderr, for an error message. */
  readonly output: () => string;
}

function settingsYaml(name: string, options: FleetOptions, lakeDir: string): string {
  return `state: { type: postgres, url_env: ${STATE_URL_ENV} }
fleet: { host_name: ${name}, lease: ${options.leaseSeconds}s }
lake_dir: ${JSON.stringify(lakeDir)}
`;
}

function spawnHost(name: string, options: FleetOptions, lakeDir: string): Daemon {
  const home = join(options.dir, name);
  mkdirSync(join(home, 'pipelines'), { recursive: true });
  writeFileSync(join(home, 'etld.yaml'), settingsYaml(name, options, lakeDir));
  writeFileSync(join(home, 'pipelines', `${options.pipeline.name}.yaml`), options.pipeline.yaml);
  const child = spawn(
    options.nodePath,
    [...launcherFlags(options.etldMain), options.etldMain, '--home', home, '--log-level', 'warning'],
    { env: { ...options.env, [STATE_URL_ENV]: options.stateUrl }, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  // Both pipes are read to the end: a daemon whose full pipe nobody reads would block on its next line.
  let output = '';
  const keep = (chunk: Buffer): void => void (output = (output + chunk.toString()).slice(-4000));
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  if (child.pid === undefined) throw new Error(`etld of host ${name} did not start`);
  return { host: { name, home, pid: child.pid }, child, exited, output: () => output.trim() };
}

async function stopDaemon(daemon: Daemon): Promise<void> {
  if (daemon.child.exitCode !== null || daemon.child.signalCode !== null) return;
  daemon.child.kill('SIGTERM');
  const stopped = await Promise.race([
    daemon.exited.then(() => true),
    sleep(STOP_TIMEOUT_MS).then(() => false),
  ]);
  if (!stopped) {
    daemon.child.kill('SIGKILL');
    await daemon.exited;
  }
}

/** The names of the hosts the store lists as running (none while the schema is not there yet). */
async function runningHosts(stateUrl: string): Promise<string[]> {
  const client = new pg.Client({ connectionString: stateUrl });
  client.on('error', () => undefined); // a cut connection fails the query below
  try {
    await client.connect();
    const result = await client.query<{ host: string }>(
      'SELECT host FROM fleet_hosts WHERE stopped_at IS NULL ORDER BY host',
    );
    return result.rows.map((r) => r.host);
  } catch {
    return [];
  } finally {
    await client.end().catch(() => undefined);
  }
}

async function waitUntilReady(daemons: readonly Daemon[], options: FleetOptions): Promise<void> {
  const deadline = performance.now() + READY_TIMEOUT_MS;
  const pending = new Set(daemons);
  while (true) {
    options.signal.throwIfAborted();
    for (const daemon of pending) {
      if (daemon.child.exitCode !== null || daemon.child.signalCode !== null) {
        throw new Error(
          `etld of host ${daemon.host.name} exited ${daemon.child.exitCode ?? daemon.child.signalCode}: ${daemon.output().slice(-300)}`,
        );
      }
      if ((await listedPipelines(join(daemon.host.home, 'run', 'etld.sock'))) === 1) pending.delete(daemon);
    }
    const running = pending.size === 0 ? await runningHosts(options.stateUrl) : [];
    if (options.hostNames.every((name) => running.includes(name))) return;
    if (performance.now() > deadline) {
      const waiting = [...pending].map((d) => d.host.name);
      throw new Error(
        `the fleet was not ready after ${READY_TIMEOUT_MS / 1000} s: ${
          waiting.length > 0
            ? `no pipeline listed by ${waiting.join(', ')}`
            : `the store lists ${running.join(', ') || 'no host'} as running`
        }`,
      );
    }
    await sleep(POLL_MS, undefined, { signal: options.signal });
  }
}

/** Starts every host at once, as a fleet's machines would boot, and waits until the fleet is formed. */
export async function startFleet(options: FleetOptions): Promise<Fleet> {
  const lakeDir = join(options.dir, 'lake');
  mkdirSync(lakeDir, { recursive: true });
  const daemons: Daemon[] = [];
  const stop = async (): Promise<void> => {
    await Promise.all(daemons.map(stopDaemon));
  };
  try {
    for (const name of options.hostNames) daemons.push(spawnHost(name, options, lakeDir));
    await waitUntilReady(daemons, options);
  } catch (error) {
    await stop();
    throw error;
  }
  return { hosts: daemons.map((d) => d.host), lakeDir, stop };
}
