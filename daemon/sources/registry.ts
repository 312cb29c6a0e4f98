import type { DatabaseSourceKind } from '../../shared/config/pipeline-schema.js';
import type { SourceDialect } from './source.js';

/**
 * Each dialect is typed by its own driver; the map holds them erased to `SourceDialect` (the
 * engine picks one by the config's kind and only passes it drivers it made itself).
 */
type Loader = () => Promise<SourceDialect>;

/** The literal map of source connectors, loaded lazily so an unused driver is never imported. */
export const SOURCES = {
  postgres: async () => (await import('./postgres/postgres-dialect.js')).postgresDialect,
  mysql: async () => (await import('./mysql/mysql-dialect.js')).mysqlDialect,
  sqlserver: async () => (await import('./sqlserver/sqlserver-dialect.js')).sqlServerDialect,
} satisfies Record<DatabaseSourceKind, Loader>;

export function loadSourceDialect(kind: DatabaseSourceKind): Promise<SourceDialect> {
  return SOURCES[kind]();
}
