/**
 * Counts the rows a tool wrote with the row counter of peer-scripts.ts, run by the peers'
 * virtualenv Python (deltalake/pyarrow read Delta and Parquet footers, so counting is cheap).
 */
import { spawn } from 'node:child_process';

/** A counter: resolves to the row count, or to a message saying why there is none. */
export function rowCounter(python: string, script: string): (path: string) => Promise<number | string> {
  return (path) =>
    new Promise((resolve) => {
      const child = spawn(python, [script, path], { stdio: ['ignore', 'pipe', 'pipe'] });
      let out = '';
      child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
      child.stderr.on('data', (chunk: Buffer) => (out += chunk.toString()));
      child.once('error', (error) => resolve(`counter failed: ${error.message}`));
      child.once('close', () => {
        const last = out.trim().split('\n').at(-1) ?? '';
        resolve(/^\d+$/.test(last) ? Number(last) : last || 'counter printed nothing');
      });
    });
}
