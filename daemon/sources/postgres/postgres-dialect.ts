import { EtlError } from '../../../shared/errors.js';
import type { SourceDialect } from '../source.js';
import { PostgresAdapter } from './postgres-adapter.js';
import { PostgresDriver } from './postgres-driver.js';
import { PostgresIntrospector } from './postgres-introspector.js';

export const postgresDialect: SourceDialect = {
  kind: 'postgres',
  createDriver: (connection, options) => new PostgresDriver(connection, options),
  createAdapter: () => new PostgresAdapter(),
  createIntrospector: (driver) => {
    if (!(driver instanceof PostgresDriver)) {
      throw new EtlError(
        'INTERNAL',
        'the PostgreSQL introspector needs a driver made by postgresDialect.createDriver',
      );
    }
    return new PostgresIntrospector(driver, new PostgresAdapter());
  },
};
