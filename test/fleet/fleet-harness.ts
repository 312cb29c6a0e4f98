/**
 * Real etld daemons forming one fleet: a PostgreSQL server holding the shared state store and a
 * small source table, and one home per host (its own state directory, lock and lake) whose
 * settings point at the shared store through an environment variable.
 */
import { makeTempHome, spawnDaemon, type DaemonProcess, type TempHome } from '../helpers/daemon-process.js';
import { startPostgres, type PostgresServer } from '../helpers/postgres-server.js';

export const STATE_URL_ENV = 'ETLD_TEST_FLEET_STATE_URL';

export interface FleetHostProcess {
  readonly name: string;
  readonly home: TempHome;
  daemon: DaemonProcess;
}

/** A home for host `name`: settings for the shared store, and the given pipeline files. */
export function fleetHome(
  name: string,
  leaseSeconds: number,
  pipelines: readonly { file: string; yaml: string }[],
  extraSettings = '',
): TempHome {
  const home = makeTempHome(`etld-fleet-${name}-`);
  home.writeSettings(
    `state: { type: postgres, url_env: ${STATE_URL_ENV} }\nfleet: { host_name: ${name}, lease: ${leaseSeconds}s }\n${extraSettings}`,
  );
  for (const pipeline of pipelines) home.writePipeline(pipeline.file, pipeline.yaml);
  return home;
}

/**
 * The fleet's PostgreSQL server: the `shop` source database with `orders` (ids 1..`orderRows`,
 * amount id x 1.5) for ordersPipeline to read, and an empty `etld_state` database for the store.
 */
export async function startFleetPostgres(orderRows: number): Promise<PostgresServer> {
  const pg = await startPostgres();
  await pg.createDatabase('shop');
  await pg.createDatabase('etld_state');
  await pg.query(
    `CREATE TABLE orders (id bigint PRIMARY KEY, amount numeric(12,2) NOT NULL);
     INSERT INTO orders SELECT g, g * 1.5 FROM generate_series(1, ${orderRows}) g;`,
    [],
    'shop',
  );
  return pg;
}

/** Stops the hosts still running, then removes every host's home. */
export async function stopHosts(hosts: readonly FleetHostProcess[]): Promise<void> {
  for (const host of hosts) if (host.daemon.child.exitCode === null) await host.daemon.stop();
  for (const host of hosts) host.home.remove();
}

export async function launchHost(name: string, home: TempHome, stateUrl: string): Promise<FleetHostProcess> {
  const daemon = spawnDaemon(home.dir, { env: { [STATE_URL_ENV]: stateUrl } });
  await daemon.waitForLine(/etld running/, 60_000);
  return { name, home, daemon };
}

/** A pipeline reading `orders` of the `shop` database into a DuckDB file of the host's lake. */
export function ordersPipeline(
  pg: PostgresServer,
  name: string,
  options: { schedule?: string; query?: string; destination?: string } = {},
): string {
  const source = options.query !== undefined ? `  query: "${options.query}"` : '  table: public.orders';
  return `name: ${name}
${options.schedule !== undefined ? `schedule: "${options.schedule}"\n` : ''}timezone: UTC
source:
  type: postgres
  connection: { host: ${pg.host}, port: ${pg.port}, database: shop, user: ${pg.user} }
${source}
load: { mode: full }
destination: { type: duckdb, path: ${options.destination ?? `${name}.duckdb`}, table: ${name} }
error_handling: { max_retries: 3, retry_delay: 1s, max_retry_delay: 5s, retry_timeout: 5m }
`;
}

/** An attempt as the fleet tests read it back from the shared store's `runs`. */
export interface AttemptTimes {
  readonly id: string;
  readonly pipeline: string;
  readonly sequence: number;
  readonly attempt: number;
  readonly started_at: string | null;
  readonly finished_at: string | null;
}

/**
 * Pairs of one pipeline's attempts that ran at the same time, split by whether that is allowed.
 * One case is: a host starved of CPU for a whole lease time looks dead, another host continues its
 * run (a later attempt of the same sequence) while the first attempt still goes on. Its commit
 * then finds its sequence committed and writes nothing, and the state store keeps the later
 * sequence's watermarks (docs/fleet.md). Any other overlap breaks the run lease.
 */
export function overlappingAttempts(attempts: readonly AttemptTimes[]): {
  readonly superseded: string[];
  readonly violations: string[];
} {
  const superseded: string[] = [];
  const violations: string[] = [];
  const byPipeline = new Map<string, AttemptTimes[]>();
  for (const a of attempts) {
    if (a.started_at === null) continue;
    byPipeline.set(a.pipeline, [...(byPipeline.get(a.pipeline) ?? []), a]);
  }
  for (const list of byPipeline.values()) {
    const ordered = [...list].sort((a, b) => Date.parse(a.started_at ?? '') - Date.parse(b.started_at ?? ''));
    ordered.forEach((before, i) => {
      const end = before.finished_at === null ? Number.POSITIVE_INFINITY : Date.parse(before.finished_at);
      for (const after of ordered.slice(i + 1)) {
        if (Date.parse(after.started_at ?? '') >= end) break;
        const takenOver = list.some((a) => a.sequence === before.sequence && a.attempt > before.attempt);
        (takenOver ? superseded : violations).push(`${before.id} still ran when ${after.id} started`);
      }
    });
  }
  return { superseded, violations };
}
