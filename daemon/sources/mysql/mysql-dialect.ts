import { defineDialect } from '../define-dialect.js';
import { MysqlAdapter } from './mysql-adapter.js';
import { MysqlDriver } from './mysql-driver.js';
import { MysqlIntrospector } from './mysql-introspector.js';

export const mysqlDialect = defineDialect({
  kind: 'mysql',
  Driver: MysqlDriver,
  Adapter: MysqlAdapter,
  Introspector: MysqlIntrospector,
});
