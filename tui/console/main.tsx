#!/usr/bin/env node
/**
 * etl-console entry point: the only console file that touches `process` (argv, env, TTY,
 * signals, exit code).
 */
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { render } from 'ink';
import { loginName } from '../../shared/client/login.js';
import { connectClient } from '../../shared/client/ws-client.js';
import { readTokenFile, resolveEndpoint } from '../../shared/client/endpoint.js';
import { isEtlError } from '../../shared/errors.js';
import { App } from './app.js';
import { parseCommandLine, USAGE } from './cli-args.js';

/** The version in the repository's package.json, found from this file up (src or dist). */
function findVersion(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let depth = 0; depth < 6; depth++) {
    try {
      const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as {
        name?: unknown;
        version?: unknown;
      };
      if (pkg.name === 'etld' && typeof pkg.version === 'string') return pkg.version;
    } catch {
      // not here: keep walking up
    }
    dir = dirname(dir);
  }
  return 'unknown';
}

async function main(): Promise<number> {
  const parsed = parseCommandLine(process.argv.slice(2), process.env);
  const version = findVersion();
  if (parsed.kind === 'help') {
    process.stdout.write(USAGE);
    return 0;
  }
  if (parsed.kind === 'version') {
    process.stdout.write(`etl-console ${version}\n`);
    return 0;
  }
  const { args } = parsed;
  if (!process.stdin.isTTY || !process.stdout.isTTY) {
    process.stderr.write('etl-console needs an interactive terminal; for scripts use etlctl\n');
    return 2;
  }
  const endpoint = resolveEndpoint({
    home: args.home,
    socket: args.socket,
    url: args.url,
    tokenFile: args.tokenFile,
    envHome: process.env.ETLD_HOME,
  });
  const token = endpoint.kind === 'tcp' ? await readTokenFile(endpoint.tokenFile) : undefined;
  const user = loginName(process.env);
  const connect = () =>
    connectClient({
      ...(endpoint.kind === 'tcp' ? { url: endpoint.url, token } : { socketPath: endpoint.socketPath }),
      clientName: `etl-console/${version}`,
      ...(user === undefined ? {} : { user }),
      // A few quick retries ride out a daemon restart; after that the app keeps calling
      // `connect` for as long as the console is open (see useDaemon).
      reconnect: { attempts: 3, initialDelayMs: 200, maxDelayMs: 1000 },
    });

  const instance = render(<App connect={connect} readonly={args.readonly} color={args.color} />, {
    // Ink renders only a final frame when it sees CI=true; the console has already checked that it
    // runs in a terminal, and an operator's shell may well carry CI=true.
    interactive: true,
    alternateScreen: true,
    exitOnCtrlC: false,
    maxFps: 10,
  });
  // A terminal closing or a polite kill still restores the screen.
  const unmount = (): void => instance.unmount();
  process.once('SIGTERM', unmount);
  process.once('SIGHUP', unmount);
  await instance.waitUntilExit();
  return 0;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    const message = isEtlError(error)
      ? error.message
      : error instanceof Error
        ? (error.stack ?? error.message)
        : String(error);
    process.stderr.write(`etl-console: ${message}\n`);
    process.exit(isEtlError(error) && error.code === 'USAGE' ? 2 : 1);
  },
);
