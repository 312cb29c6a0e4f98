/**
 * Object-store emulators for the storage tests, each started on a free loopback port and waited
 * for (never a fixed sleep):
 * - S3: moto's server (Python, `moto[server]`), in a venv under the emulators directory;
 * - GCS: fake-gcs-server (Go), a binary under the emulators directory;
 * - Azure Blob: Azurite (npm devDependency), from node_modules/.bin.
 *
 * .ci/install-storage-emulators.sh installs the first two into $ETLD_EMULATORS_DIR (default
 * /opt/etld-emulators); tests and CI find them the same way.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './free-port.js';
import { REPO_ROOT } from './repo-paths.js';
import { waitFor } from './wait.js';

export interface Emulator {
  readonly endpoint: string;
  stop(): Promise<void>;
}

/** Azurite's well-known development account (documented, not a secret). */
export const AZURITE_ACCOUNT = 'devstoreaccount1';
export const AZURITE_KEY =
  'Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==';

export function emulatorsDir(env: NodeJS.ProcessEnv = process.env): string {
  return env.ETLD_EMULATORS_DIR ?? '/opt/etld-emulators';
}

function requireBinary(path: string, what: string): string {
  if (!existsSync(path))
    throw new Error(
      `${what} not found at ${path}: run .ci/install-storage-emulators.sh (or set ETLD_EMULATORS_DIR)`,
    );
  return path;
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
  await exited;
  clearTimeout(timer);
}

async function startProcess(
  what: string,
  command: string,
  args: readonly string[],
  port: number,
  env: NodeJS.ProcessEnv,
  ready: (endpoint: string) => Promise<boolean>,
  cleanup: () => Promise<void> = () => Promise.resolve(),
  cwd?: string,
): Promise<Emulator> {
  const child = spawn(command, args, {
    stdio: ['ignore', 'ignore', 'pipe'],
    env,
    ...(cwd !== undefined ? { cwd } : {}),
  });
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => (stderr = (stderr + chunk.toString()).slice(-4000)));
  const endpoint = `http://127.0.0.1:${port}`;
  try {
    await waitFor(
      async () => {
        if (child.exitCode !== null) throw new Error(`${what} exited (${child.exitCode}): ${stderr}`);
        return (await ready(endpoint)) ? true : undefined;
      },
      { timeoutMs: 60_000, what: `${what} on port ${port}` },
    );
  } catch (error) {
    await stopChild(child);
    await cleanup();
    throw error;
  }
  return {
    endpoint,
    async stop() {
      await stopChild(child);
      await cleanup();
    },
  };
}

const answers = async (url: string): Promise<boolean> => {
  const res = await fetch(url);
  await res.arrayBuffer();
  return res.status > 0;
};

/**
 * moto's S3 server. With `authenticate`, every request is checked against moto's IAM (no access
 * key is known, so every request is refused as a real S3 refuses an unknown key).
 */
export async function startMoto(options: { authenticate?: boolean } = {}): Promise<Emulator> {
  const binary = requireBinary(join(emulatorsDir(), 'moto-venv', 'bin', 'moto_server'), "moto's server");
  const port = await freePort();
  return startProcess(
    'moto_server',
    binary,
    ['-H', '127.0.0.1', '-p', String(port)],
    port,
    { ...process.env, ...(options.authenticate === true ? { INITIAL_NO_AUTH_ACTION_COUNT: '0' } : {}) },
    (endpoint) => answers(`${endpoint}/moto-api/`),
  );
}

export async function startFakeGcs(): Promise<Emulator> {
  const binary = requireBinary(join(emulatorsDir(), 'bin', 'fake-gcs-server'), 'fake-gcs-server');
  const port = await freePort();
  return startProcess(
    'fake-gcs-server',
    binary,
    [
      '-backend',
      'memory',
      '-scheme',
      'http',
      '-host',
      '127.0.0.1',
      '-port',
      String(port),
      '-log-level',
      'error',
    ],
    port,
    process.env,
    async (endpoint) => (await fetch(`${endpoint}/storage/v1/b`)).ok,
  );
}

/** Azurite's blob service; `endpoint` is the account's blob service URL. */
export async function startAzurite(): Promise<Emulator> {
  const binary = requireBinary(join(REPO_ROOT, 'node_modules', '.bin', 'azurite-blob'), 'azurite-blob');
  const port = await freePort();
  const workspace = await mkdtemp(join(tmpdir(), 'etld-azurite-'));
  const emulator = await startProcess(
    'azurite-blob',
    binary,
    [
      '--blobHost',
      '127.0.0.1',
      '--blobPort',
      String(port),
      '--inMemoryPersistence',
      '--skipApiVersionCheck',
      '--disableTelemetry',
      '--silent',
    ],
    port,
    process.env,
    (endpoint) => answers(`${endpoint}/${AZURITE_ACCOUNT}?comp=list`),
    () => rm(workspace, { recursive: true, force: true }),
    // In memory; the workspace is only its working directory, for anything it writes anyway.
    workspace,
  );
  return { endpoint: `${emulator.endpoint}/${AZURITE_ACCOUNT}`, stop: () => emulator.stop() };
}
