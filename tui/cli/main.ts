#!/usr/bin/env node
import { askLine } from './ask-line.js';
import { runCli } from './cli.js';

// The only file of etlctl that touches the process: argv, env, stdio, SIGINT and the exit code.
const controller = new AbortController();
process.on('SIGINT', () => {
  if (controller.signal.aborted) process.exit(130);
  controller.abort();
});
process.stdout.on('error', (error: NodeJS.ErrnoException) => {
  // `etlctl logs | head` closes the pipe early; that is not an error.
  if (error.code === 'EPIPE') process.exit(0);
  throw error;
});

const code = await runCli(process.argv.slice(2), {
  stdout: (text) => process.stdout.write(text),
  stderr: (text) => process.stderr.write(text),
  stdoutIsTty: process.stdout.isTTY === true,
  stdinIsTty: process.stdin.isTTY === true,
  ask: (question) => askLine(process.stdin, process.stderr, question),
  env: process.env,
  cwd: process.cwd(),
  signal: controller.signal,
  now: () => new Date(),
});
process.exitCode = code;
