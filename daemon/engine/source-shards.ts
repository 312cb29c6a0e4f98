/**
 * The source side of a run: one driver per shard (or one `default` shard), created from the
 * pipeline's connection with each shard's fields overriding it, secrets resolved by the caller's
 * `resolveConnection`. `hostKey` (`host:port`) is what the per-host governor counts.
 */
import type { ResolvedConnection } from '../config/resolved-connection.js';
import type { ConnectionConfig } from '../../shared/config/common-schema.js';
import {
  sourceConnection,
  type DatabaseSourceKind,
  type PipelineConfig,
} from '../../shared/config/pipeline-schema.js';
import type {
  SourceAdapter,
  SourceDialect,
  SourceDriver,
  SourceIntrospector,
  SourceRelation,
} from '../sources/source.js';

const DEFAULT_SHARD = 'default';

const DEFAULT_PORTS: Record<DatabaseSourceKind, number> = { postgres: 5432, mysql: 3306, sqlserver: 1433 };

export interface ShardSource {
  /** Shard name, or `default` for an unsharded source. */
  readonly name: string;
  readonly hostKey: string;
  readonly driver: SourceDriver;
  readonly introspector: SourceIntrospector;
}

export interface SourceHandle {
  readonly adapter: SourceAdapter;
  readonly relation: SourceRelation;
  readonly sharded: boolean;
  readonly shards: readonly ShardSource[];
  /** Connects every shard in parallel; the first failure rejects (the others stay open for close()). */
  init(signal: AbortSignal | undefined): Promise<void>;
  /** Destroys every driver; never rejects. */
  close(): Promise<void>;
}

function relationOf(source: PipelineConfig['source']): SourceRelation {
  return source.table !== undefined ? { table: source.table } : { query: source.query ?? '' };
}

function hostKeyOf(kind: DatabaseSourceKind, connection: ResolvedConnection): string {
  if (connection.socket !== undefined && connection.host === undefined) return `${connection.socket}`;
  return `${connection.host ?? 'localhost'}:${connection.port ?? DEFAULT_PORTS[kind]}`;
}

export function openSource(
  config: PipelineConfig,
  dialect: SourceDialect,
  resolveConnection: (c: ConnectionConfig) => ResolvedConnection,
): SourceHandle {
  const source = config.source;
  const connection = sourceConnection(source);
  const entries: { name: string; connection: ConnectionConfig }[] =
    source.shards === undefined
      ? [{ name: DEFAULT_SHARD, connection }]
      : source.shards.map(({ name, ...overrides }) => ({
          name,
          connection: { ...connection, ...overrides },
        }));
  const shards: ShardSource[] = entries.map(({ name, connection }) => {
    const resolved = resolveConnection(connection);
    const driver = dialect.createDriver(resolved, {
      label: name,
      connectAttempts: config.connection_retry.attempts,
      connectDelayMs: config.connection_retry.delay,
      zeroDates: source.zero_dates,
    });
    return {
      name,
      hostKey: hostKeyOf(dialect.kind, resolved),
      driver,
      introspector: dialect.createIntrospector(driver),
    };
  });
  return {
    adapter: dialect.createAdapter(),
    relation: relationOf(source),
    sharded: source.shards !== undefined,
    shards,
    async init(signal) {
      // Every init settles before the first failure is reported, so close() never races a connect.
      const results = await Promise.allSettled(shards.map((s) => s.driver.init(signal)));
      const failed = results.find((r) => r.status === 'rejected');
      if (failed !== undefined) throw failed.reason;
    },
    async close() {
      await Promise.allSettled(shards.map((s) => s.driver.destroy()));
    },
  };
}
