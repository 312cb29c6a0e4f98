import { defineDialect } from '../define-dialect.js';
import { SqlServerAdapter } from './sqlserver-adapter.js';
import { SqlServerDriver } from './sqlserver-driver.js';
import { SqlServerIntrospector } from './sqlserver-introspector.js';

export const sqlServerDialect = defineDialect({
  kind: 'sqlserver',
  Driver: SqlServerDriver,
  Adapter: SqlServerAdapter,
  Introspector: SqlServerIntrospector,
});
