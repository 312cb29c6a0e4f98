/**
 * One oracle engine (delta-rs or Spark) kept running for a whole test file: `test/oracles/delta_ops.py`
 * answers one JSON request per line, so a test can let Spark create a table, write to it with etld,
 * then let Spark read it, all in the JVM it started once (a start costs about a minute here).
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { oracleDir, oraclePython } from '../conformance/delta-oracle.js';
import { REPO_ROOT } from '../helpers/repo-paths.js';
import { within } from '../helpers/wait.js';

const SCRIPT = join(REPO_ROOT, 'test', 'oracles', 'delta_ops.py');
const ANSWER = 'ETLD-ANSWER ';
/** A request may include the engine's start-up. */
const REQUEST_TIMEOUT_MS = 600_000;

export type OracleEngine = 'deltalake' | 'spark';

export interface OracleRows {
  readonly schema?: { name: string; type: string; nullable: boolean }[];
  readonly rows?: Record<string, unknown>[];
  /** Spark `read`: the files the rows came from (input_file_name URIs) and the scan's file count. */
  readonly files?: string[];
  readonly filesScanned?: number;
  readonly error?: string;
}

export class OracleSession {
  readonly #child: ChildProcessWithoutNullStreams;
  readonly #waiting: { resolve: (line: string) => void; reject: (error: Error) => void }[] = [];
  #stderr = '';
  #exited: Error | undefined;

  constructor(engine: OracleEngine) {
    this.#child = spawn(oraclePython(), [SCRIPT, engine], {
      env: { ...process.env, ETLD_ORACLE_DIR: oracleDir(), TZ: 'UTC', PYTHONUNBUFFERED: '1' },
    });
    createInterface({ input: this.#child.stdout }).on('line', (line) => {
      if (line.startsWith(ANSWER)) this.#waiting.shift()?.resolve(line.slice(ANSWER.length));
    });
    this.#child.stderr.on('data', (chunk: Buffer) => {
      // Keep the tail for the failure message; the JVM logs a lot.
      this.#stderr = (this.#stderr + chunk.toString('utf8')).slice(-4000);
    });
    this.#child.on('exit', (code) => {
      this.#exited = new Error(`delta_ops.py ${engine} exited (${code}): ${this.#stderr}`);
      for (const waiter of this.#waiting.splice(0)) waiter.reject(this.#exited);
    });
  }

  /** Sends one request; resolves with its answer (an `error` field when the engine failed it). */
  async request<T = OracleRows>(request: Record<string, unknown>): Promise<T> {
    if (this.#exited) throw this.#exited;
    const answer = new Promise<string>((resolve, reject) => this.#waiting.push({ resolve, reject }));
    this.#child.stdin.write(`${JSON.stringify(request)}\n`);
    return JSON.parse(await within(answer, `delta_ops.py ${String(request.op)}`, REQUEST_TIMEOUT_MS)) as T;
  }

  /** Asks the engine to stop and waits for the process to end. */
  async close(): Promise<void> {
    if (this.#exited) return;
    const exited = new Promise<void>((resolve) => this.#child.once('exit', () => resolve()));
    this.#child.stdin.end(`${JSON.stringify({ op: 'quit' })}\n`);
    await within(exited, 'delta_ops.py to exit', 120_000);
  }
}
