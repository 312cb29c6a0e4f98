import { EtlError } from '../../../shared/errors.js';
import type { SourceDialect } from '../source.js';
import { MssqlAdapter } from './mssql-adapter.js';
import { MssqlDriver } from './mssql-driver.js';
import { MssqlIntrospector } from './mssql-introspector.js';

export const mssqlDialect: SourceDialect = {
  kind: 'sqlserver',
  createDriver: (connection, options) => new MssqlDriver(connection, options),
  createAdapter: () => new MssqlAdapter(),
  createIntrospector: (driver) => {
    if (!(driver instanceof MssqlDriver)) {
      throw new EtlError(
        'INTERNAL',
        'the SQL Server introspector needs a driver made by mssqlDialect.createDriver',
      );
    }
    return new MssqlIntrospector(driver, new MssqlAdapter());
  },
};
