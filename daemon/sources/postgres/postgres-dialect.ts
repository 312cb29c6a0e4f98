import { defineDialect } from '../define-dialect.js';
import { PostgresAdapter } from './postgres-adapter.js';
import { PostgresDriver } from './postgres-driver.js';
import { PostgresIntrospector } from './postgres-introspector.js';

export const postgresDialect = defineDialect({
  kind: 'postgres',
  Driver: PostgresDriver,
  Adapter: PostgresAdapter,
  Introspector: PostgresIntrospector,
});
