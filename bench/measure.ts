/**
 * Runs one benchmark command under GNU time (`/usr/bin/time -f`), so every tool — psql, mysql,
 * etld, Sling, dlt, polars — is measured the same way: wall seconds, CPU seconds, peak RSS of the
 * process tree's largest member (GNU time reports the waited-for child's maximum resident set).
 * Optionally samples the measured process's threads meanwhile (threads.ts).
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sampleChildThreads, type ThreadCpu } from './threads.js';

export interface Measurement {
  readonly seconds: number;
  readonly cpuSeconds: number;
  readonly peakRssMb: number;
  readonly exitCode: number;
  readonly output: string;
  /** Per-thread CPU of the measured process, when asked for. */
  readonly threads: readonly ThreadCpu[] | null;
}

export function measure(
  command: string,
  args: readonly string[],
  env: NodeJS.ProcessEnv,
  options: { readonly sampleThreads: boolean } = { sampleThreads: false },
): Promise<Measurement> {
  const dir = mkdtempSync(join(tmpdir(), 'etld-bench-time-'));
  const timeFile = join(dir, 'time.txt');
  return new Promise((resolve, reject) => {
    const child = spawn('/usr/bin/time', ['-o', timeFile, '-f', '%e %U %S %M', command, ...args], {
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    const keep = (chunk: Buffer): void => {
      output = (output + chunk.toString()).slice(-8000);
    };
    child.stdout.on('data', keep);
    child.stderr.on('data', keep);
    const sampler =
      options.sampleThreads && child.pid !== undefined ? sampleChildThreads(child.pid) : undefined;
    child.once('error', (error) => {
      sampler?.stop();
      reject(error);
    });
    child.once('close', (code) => {
      const threads = sampler?.stop() ?? null;
      try {
        const lines = readFileSync(timeFile, 'utf8').trim().split('\n');
        const [elapsed, user, system, maxRssKb] = (lines.at(-1) ?? '').split(' ').map(Number);
        resolve({
          seconds: elapsed ?? Number.NaN,
          cpuSeconds: (user ?? 0) + (system ?? 0),
          peakRssMb: (maxRssKb ?? 0) / 1024,
          exitCode: code ?? -1,
          output,
          threads,
        });
      } catch (error) {
        reject(error instanceof Error ? error : new Error(String(error)));
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });
  });
}

export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1
    ? (sorted[mid] ?? Number.NaN)
    : ((sorted[mid - 1] ?? 0) + (sorted[mid] ?? 0)) / 2;
}
