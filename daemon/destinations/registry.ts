import type { DestinationConfig, DestinationKind } from '../../shared/config/pipeline-schema.js';
import type { Destination, DestinationContext, DestinationDialect } from './destination.js';

/** The literal map of destinations, loaded lazily (BigQuery's client is large). */
export const DESTINATIONS = {
  duckdb: async () => (await import('./duckdb/duckdb-destination.js')).duckdbDestination,
  delta: async () => (await import('./delta/delta-destination.js')).deltaDestination,
  postgres: async () => (await import('./postgres/postgres-destination.js')).postgresDestination,
  bigquery: async () => (await import('./bigquery/bigquery-destination.js')).bigqueryDestination,
} satisfies { [K in DestinationKind]: () => Promise<DestinationDialect<K>> };

export async function createDestination(
  config: DestinationConfig,
  context: DestinationContext,
): Promise<Destination> {
  switch (config.type) {
    case 'duckdb':
      return (await DESTINATIONS.duckdb()).create(config, context);
    case 'delta':
      return (await DESTINATIONS.delta()).create(config, context);
    case 'postgres':
      return (await DESTINATIONS.postgres()).create(config, context);
    case 'bigquery':
      return (await DESTINATIONS.bigquery()).create(config, context);
  }
}
