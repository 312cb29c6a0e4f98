/**
 * Cancellation of DuckDB work on one connection: aborting `signal` interrupts the statement the
 * connection is running. An interrupt that lands between statements does nothing in DuckDB, so
 * callers check the signal again when the work ends.
 */
import type { DuckDBConnection } from '@duckdb/node-api';

export async function interruptibly<T>(
  connection: DuckDBConnection,
  signal: AbortSignal | undefined,
  work: () => Promise<T>,
): Promise<T> {
  if (signal === undefined) return work();
  const interrupt = (): void => connection.interrupt();
  signal.addEventListener('abort', interrupt, { once: true });
  try {
    return await work();
  } finally {
    signal.removeEventListener('abort', interrupt);
  }
}
