/**
 * A chaos pipeline's ETLD_HOME: its own directory (so pipelines never share a state store, a lock or
 * a fault), the daemon settings file, and the pipeline file.
 *
 * Decisions:
 * - etld's temp root is `<home>/tmp` and has no setting of its own (shared/paths.ts); the
 *   daemon wipes it at start-up (`rm -r`, then `mkdir`), so it cannot be a mount point. The disk
 *   full fault therefore runs the daemon with `--home <tmpfs>` and `--config <home>/etld.yaml`:
 *   the settings name absolute pipelines/lake/logs/state paths, so only the temp root (and the
 *   lock file) move to the small tmpfs. Every step passes `--config` the same way.
 * - Retries are short (two retries 1 s apart, two connection attempts 200 ms apart), so retries
 *   happen inside a step.
 * - Sources and the PostgreSQL destination are reached through the pipeline's fault proxies.
 * - A multi-table spec (world.ts) selects its table by pattern; its key defaults to the table's
 *   primary key unless NULL keys leave it without one.
 * - Fleet mode (`host`): the home is `<root>/<pipeline>/<host>` with its own state dir, lock, logs
 *   and socket, settings pointing at the shared PostgreSQL store through `url_env`, and the lake
 *   dir `<root>/<pipeline>/lake` shared by the pipeline's hosts: destination paths are relative to
 *   the lake dir, and the hosts must load one and the same destination.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { DestinationLocation } from './dest-reader.js';
import type { PipelineSource } from './pipeline-source.js';
import { CURSOR_COLUMN, KEY_COLUMN, sourceColumns } from './source-schema.js';
import type { SqlTarget } from './sql-target.js';

export interface PipelineHome {
  /** The fleet host this home is, or null outside fleet mode. */
  readonly host: string | null;
  readonly dir: string;
  readonly config: string;
  readonly logFile: string;
  readonly stateDb: string;
  readonly destination: DestinationLocation;
}

export interface HomeInputs {
  readonly root: string;
  readonly source: PipelineSource;
  readonly sourceProxyPort: number;
  /** The PostgreSQL destination database, its direct target (for reads) and its proxy port. */
  readonly destDatabase: string;
  readonly destTarget: SqlTarget;
  readonly destProxyPort: number | null;
  /** `load.lag` for profiles with lag: longer than any step's late transaction. */
  readonly lag: string;
  /** Fleet mode: this home's host name and the variable holding the shared state store's URL. */
  readonly host?: FleetHostInputs;
}

export interface FleetHostInputs {
  readonly name: string;
  readonly stateUrlEnv: string;
  readonly leaseSeconds: number;
}

function pipelineYaml(inputs: HomeInputs, destination: string): string {
  const { spec, target, shards } = inputs.source;
  const connection = [
    `host: 127.0.0.1`,
    `port: ${inputs.sourceProxyPort}`,
    `user: ${target.user}`,
    `database: ${shards[0]?.database ?? ''}`,
    'connect_timeout: 5s',
  ].join(', ');
  const lines = [
    `name: ${spec.name}`,
    `description: "chaos: ${spec.summary}"`,
    'source:',
    `  type: ${spec.source}`,
    `  connection: { ${connection} }`,
  ];
  if (spec.sharded) {
    lines.push('  shards:');
    for (const shard of shards) lines.push(`    - { name: ${shard.name}, database: ${shard.database} }`);
  }
  const perTable: string[] = [];
  if (spec.multiTable) {
    lines.push(`  tables: ['${spec.tablePattern}']`);
    // A table whose keys may be NULL has no primary key to default to: the key is named.
    if (spec.nullKeys) perTable.push(`key: [${KEY_COLUMN}]`);
    if (spec.chunked) perTable.push('chunk_rows: 15');
    if (spec.chunked) lines.push(`  parallelism: ${spec.parallelism}`);
  } else {
    lines.push(`  table: ${spec.name}`);
    if (!spec.keyed)
      lines.push(
        `  columns: [${sourceColumns(spec, 0)
          .map((c) => c.name)
          .join(', ')}]`,
      );
    if (spec.keyed) lines.push(`  key: [${KEY_COLUMN}]`);
    if (spec.chunked) lines.push('  chunk_rows: 15', `  parallelism: ${spec.parallelism}`);
  }
  const load = [`mode: ${spec.mode}`];
  if (spec.cursor !== null) load.push(`cursor: ${CURSOR_COLUMN}`);
  if (spec.lag) load.push(`lag: ${inputs.lag}`);
  if (spec.nullCursor !== null) load.push(`null_cursor: ${spec.nullCursor}`);
  lines.push(`load: { ${load.join(', ')} }`);
  if (perTable.length > 0) lines.push('tables:', `  ${spec.name}: { ${perTable.join(', ')} }`);
  lines.push(`destination: ${destination}`);
  lines.push('error_handling: { max_retries: 2, retry_delay: 1s, exponential_backoff: false }');
  lines.push('connection_retry: { attempts: 2, delay: 200ms }');
  return `${lines.join('\n')}\n`;
}

export function createPipelineHome(inputs: HomeInputs): PipelineHome {
  const spec = inputs.source.spec;
  const host = inputs.host;
  const dir = join(inputs.root, spec.name, ...(host === undefined ? [] : [host.name]));
  const lake = host === undefined ? join(dir, 'lake') : join(inputs.root, spec.name, 'lake');
  for (const sub of ['pipelines', 'state', 'logs', 'run']) mkdirSync(join(dir, sub), { recursive: true });
  mkdirSync(lake, { recursive: true });
  const config = join(dir, 'etld.yaml');
  const state =
    host === undefined
      ? [`state: { type: sqlite, path: ${join(dir, 'state', 'etld.db')} }`]
      : [
          `state: { type: postgres, url_env: ${host.stateUrlEnv} }`,
          `fleet: { host_name: ${host.name}, lease: ${host.leaseSeconds}s }`,
        ];
  writeFileSync(
    config,
    [
      `pipelines_dir: ${join(dir, 'pipelines')}`,
      `lake_dir: ${lake}`,
      ...state,
      `logs: { dir: ${join(dir, 'logs')}, compress: false }`,
      `control: { socket: ${join(dir, 'run', 'etld.sock')} }`,
      '',
    ].join('\n'),
  );
  let destination: DestinationLocation;
  let destinationYaml: string;
  // A multi-table pipeline names its destination by template; it renders to the same name.
  const destinationName = spec.multiTable ? `'{table}'` : spec.name;
  switch (spec.dest) {
    case 'duckdb':
      destination = { kind: 'duckdb', file: join(lake, 'dest.duckdb'), table: spec.name };
      destinationYaml = `{ type: duckdb, path: dest.duckdb, table: ${destinationName} }`;
      break;
    case 'delta':
      destination = { kind: 'delta', path: join(lake, spec.name) };
      destinationYaml = `{ type: delta, path: ${destinationName} }`;
      break;
    case 'postgres':
      destination = {
        kind: 'postgres',
        target: inputs.destTarget,
        database: inputs.destDatabase,
        table: spec.name,
      };
      destinationYaml = `{ type: postgres, connection: { host: 127.0.0.1, port: ${inputs.destProxyPort ?? 0}, user: ${inputs.destTarget.user}, database: ${inputs.destDatabase}, connect_timeout: 5s }, table: ${destinationName} }`;
      break;
  }
  writeFileSync(join(dir, 'pipelines', `${spec.name}.yaml`), pipelineYaml(inputs, destinationYaml));
  return {
    host: host?.name ?? null,
    dir,
    config,
    logFile: join(dir, 'steps.log'),
    stateDb: join(dir, 'state', 'etld.db'),
    destination,
  };
}
