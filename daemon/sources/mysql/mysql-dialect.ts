import { EtlError } from '../../../shared/errors.js';
import type { SourceDialect } from '../source.js';
import { MysqlAdapter } from './mysql-adapter.js';
import { MysqlDriver } from './mysql-driver.js';
import { MysqlIntrospector } from './mysql-introspector.js';

export const mysqlDialect: SourceDialect = {
  kind: 'mysql',
  createDriver: (connection, options) => new MysqlDriver(connection, options),
  createAdapter: () => new MysqlAdapter(),
  createIntrospector: (driver) => {
    if (!(driver instanceof MysqlDriver)) {
      throw new EtlError(
        'INTERNAL',
        'the MySQL introspector needs a driver made by mysqlDialect.createDriver',
      );
    }
    return new MysqlIntrospector(driver, new MysqlAdapter());
  },
};
