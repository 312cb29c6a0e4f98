/**
 * A dialect is its three classes: the three connectors used to write the same object around
 * them. Typed by its driver, so the introspector's constructor receives the driver type it was
 * written for (see `SourceDialect`).
 */
import type { ResolvedConnection } from '../config/resolved-connection.js';
import type { DatabaseSourceKind } from '../../shared/config/pipeline-schema.js';
import type {
  SourceAdapter,
  SourceDialect,
  SourceDriver,
  SourceDriverOptions,
  SourceIntrospector,
} from './source.js';

export interface DialectParts<D extends SourceDriver, A extends SourceAdapter> {
  readonly kind: DatabaseSourceKind;
  readonly Driver: new (connection: ResolvedConnection, options: SourceDriverOptions) => D;
  readonly Adapter: new () => A;
  readonly Introspector: new (driver: D, adapter: A) => SourceIntrospector;
}

export function defineDialect<D extends SourceDriver, A extends SourceAdapter>(
  parts: DialectParts<D, A>,
): SourceDialect<D> {
  return {
    kind: parts.kind,
    createDriver: (connection, options) => new parts.Driver(connection, options),
    createAdapter: () => new parts.Adapter(),
    // Its own adapter: adapters hold no state, the introspector only renders SQL with it.
    createIntrospector: (driver) => new parts.Introspector(driver, new parts.Adapter()),
  };
}
