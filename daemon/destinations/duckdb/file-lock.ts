/**
 * In-process serialisation of work on one DuckDB file. Two DuckDB instances of this process must
 * never hold the same file open for writing (pipelines may share a file with different tables), and
 * a reader (plan) must not open it while a commit has it attached. Other processes are kept out by
 * DuckDB's own file lock.
 */
const tails = new Map<string, Promise<void>>();

export async function withFileLock<T>(path: string, work: () => Promise<T>): Promise<T> {
  const previous = tails.get(path) ?? Promise.resolve();
  let release!: () => void;
  const current = new Promise<void>((resolve) => (release = resolve));
  const tail = previous.then(() => current);
  tails.set(path, tail);
  await previous;
  try {
    return await work();
  } finally {
    release();
    if (tails.get(path) === tail) tails.delete(path);
  }
}
