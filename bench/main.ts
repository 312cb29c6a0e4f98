/**
 * `npm run bench`: generates the benchmark table in throwaway PostgreSQL and MariaDB servers and
 * measures, in one run on one machine, the bulk-copy baselines, etld's pipelines, the peers (Sling,
 * dlt, polars + ConnectorX; when installed) and the idle daemon. With --checks it also measures
 * etld's single-stream PostgreSQL pipelines again with data quality checks (bench/checks.ts) and
 * reports what judging them costs against the same pipeline without checks in the same run. With
 * --fleet N it measures instead one chunked table run by one daemon and by N daemons sharing a
 * PostgreSQL state store (bench/fleet-case.ts), and nothing else. Prints
 * a markdown report, writes it to --out and a JSON record to bench/results/<timestamp>.json. It
 * reports targets, never fails on them. Performance is measured here, never asserted by timed tests.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { startMariaDb } from '../test/helpers/mariadb-server.js';
import { startPostgres } from '../test/helpers/postgres-server.js';
import { baselineCases, etldCases, selectCases, type BenchCase, type CaseContext } from './cases.js';
import { checksReport } from './check-cost.js';
import { benchCheckNames } from './checks.js';
import { createDataset, pgTableBytes } from './dataset.js';
import { runFleetBench } from './fleet-bench.js';
import { runIdleCase, type IdleResult } from './idle.js';
import { peerCases } from './peer-cases.js';
import { writePeerScripts } from './peer-scripts.js';
import { DEFAULT_VENV, peerInstallCommands, slingBinary, venvPython } from './peers.js';
import { etldMainPath, etlctlMainPath, repoRoot } from './repo-root.js';
import { renderMarkdown, toJson, type CaseResult, type Report } from './report.js';
import { rowCounter } from './row-count.js';
import { runCase, runTwins } from './run-case.js';
import { checkTargets } from './targets.js';
import {
  clientVersions,
  etldCommit,
  machine,
  nodePackageVersion,
  pythonVersions,
  serverVersions,
  slingVersion,
} from './versions.js';

const HELP = `npm run bench -- [--rows N] [--repeat N] [--only TEXT] [--checks] [--install-peers] [--venv DIR]
                    [--no-peers] [--idle-pipelines N] [--out FILE]
npm run bench -- --fleet N [--rows N] [--repeat N] [--out FILE]

  --rows N              rows in the generated table (default 10000000)
  --repeat N            runs per case; the median is reported (default 3)
  --only TEXT           run only cases whose name or tool contains TEXT (baselines always run;
                        the idle daemon runs when "idle daemon" contains TEXT); a case with checks
                        and the same case without them are selected together
  --checks              also run postgres → delta and postgres → duckdb with data quality checks
                        (cases named "… + checks"; bench/checks.ts) and report their cost in % of
                        the run's time against the same pipeline without checks (target < 10 %);
                        --only checks runs just those, their twins and the baselines
  --install-peers       create the peers' virtualenv if missing and install or upgrade Sling, dlt,
                        polars, ConnectorX and delta-rs from PyPI
  --venv DIR            where the peers' virtualenv lives (default ${DEFAULT_VENV})
  --no-peers            skip the peers
  --idle-pipelines N    pipelines configured in the idle daemon case; 0 skips it (default 100)
  --out FILE            the markdown report (default bench-results.md in the current directory)
  --fleet N             run only the fleet comparison (2 ≤ N ≤ 16): the table loaded postgres → delta
                        chunked p2 by one etld daemon with a PostgreSQL state store, then by N
                        daemons sharing one, the run started by etlctl start --wait on one of them,
                        alternately --repeat times; reports wall time, rows/s, the host that ran it
                        and its peak RSS. A run stays on one host, so this measures the fleet's
                        overhead, not a speed-up. Starts only PostgreSQL; no baselines, peers or
                        idle daemon; --only, --checks and --install-peers are refused with it
`;

/** Python distributions whose versions the report lists. */
const PEER_DISTRIBUTIONS = [
  'sling-linux-amd64',
  'duckdb-cli',
  'duckdb-extension-json',
  'duckdb-extension-httpfs',
  'dlt',
  'polars',
  'connectorx',
  'deltalake',
  'pyarrow',
];

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      rows: { type: 'string', default: '10000000' },
      repeat: { type: 'string', default: '3' },
      only: { type: 'string' },
      checks: { type: 'boolean', default: false },
      'install-peers': { type: 'boolean', default: false },
      venv: { type: 'string', default: DEFAULT_VENV },
      'no-peers': { type: 'boolean', default: false },
      'idle-pipelines': { type: 'string', default: '100' },
      out: { type: 'string', default: 'bench-results.md' },
      fleet: { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) {
    process.stdout.write(HELP);
    return;
  }
  const rows = Number(values.rows);
  const repeat = Number(values.repeat);
  const idlePipelines = Number(values['idle-pipelines']);
  if (
    !Number.isInteger(rows) ||
    rows < 1 ||
    !Number.isInteger(repeat) ||
    repeat < 1 ||
    !Number.isInteger(idlePipelines) ||
    idlePipelines < 0
  ) {
    process.stderr.write(`bench: --rows and --repeat take positive integers, --idle-pipelines ≥ 0\n${HELP}`);
    process.exit(2);
  }
  const fleetHosts = values.fleet === undefined ? null : Number(values.fleet);
  if (fleetHosts !== null && (!Number.isInteger(fleetHosts) || fleetHosts < 2 || fleetHosts > 16)) {
    process.stderr.write(`bench: --fleet takes an integer from 2 to 16\n${HELP}`);
    process.exit(2);
  }
  if (fleetHosts !== null && (values.only !== undefined || values.checks || values['install-peers'])) {
    process.stderr.write(`bench: --fleet runs alone, without --only, --checks or --install-peers\n${HELP}`);
    process.exit(2);
  }
  // Parsed before the minutes of table generation: a block etld refuses would fail every checked run.
  const checkNames = values.checks ? benchCheckNames() : null;
  const log = (text: string): void => void process.stdout.write(text);
  const startedAt = new Date();
  const outFile = resolve(process.cwd(), values.out);
  const root = repoRoot();
  const etldMain = etldMainPath();
  // Taken now: the work tree may change while a long run goes on.
  const commit = etldCommit(root);

  if (fleetHosts !== null) {
    // Interrupted, the bench stops its daemons and PostgreSQL before it exits; a second signal
    // (the handlers are gone by then) ends it at once.
    const abort = new AbortController();
    const interrupt = (): void => abort.abort(new Error('interrupted'));
    process.once('SIGINT', interrupt);
    process.once('SIGTERM', interrupt);
    const report = await runFleetBench({
      rows,
      repeat,
      hosts: fleetHosts,
      root,
      commit,
      startedAt,
      nodePath: process.execPath,
      nodeVersion: process.version,
      etldMain,
      etlctlMain: etlctlMainPath(),
      env: process.env,
      log,
      signal: abort.signal,
    });
    publish(report, outFile, root, log);
    return;
  }

  const skipped: string[] = [];
  let venv: string | null = values['no-peers'] ? null : values.venv;
  let peerInstallSeconds: number | null = null;
  if (venv !== null && values['install-peers']) {
    const installStart = performance.now();
    for (const command of peerInstallCommands(venv)) {
      log(`installing peers: ${command.join(' ')}\n`);
      const result = spawnSync(command[0] ?? '', command.slice(1), { stdio: 'inherit' });
      if (result.status !== 0) {
        skipped.push(
          `peers: installing them failed (${command.slice(0, 3).join(' ')} exited ${result.status})`,
        );
        break;
      }
    }
    peerInstallSeconds = (performance.now() - installStart) / 1000;
    log(`peers installed in ${peerInstallSeconds.toFixed(0)} s\n`);
  }
  if (values['no-peers']) skipped.push('all peers: --no-peers');
  else if (venv !== null && !existsSync(venvPython(venv))) {
    skipped.push(`all peers: no virtualenv at ${venv} (add --install-peers)`);
    venv = null;
  }

  const workDir = mkdtempSync(join(tmpdir(), 'etld-bench-'));
  const etldHome = join(workDir, 'etld-home');
  mkdirSync(join(etldHome, 'pipelines'), { recursive: true });
  const scripts = writePeerScripts(workDir);
  const peerVersions =
    venv === null ? {} : pythonVersions(venvPython(venv), scripts.versions, PEER_DISTRIBUTIONS);

  log(`starting PostgreSQL and MariaDB, generating ${rows.toLocaleString('en-US')} rows…\n`);
  const [pgServer, maria] = await Promise.all([
    startPostgres({ settings: { max_wal_size: '4GB' } }),
    startMariaDb(),
  ]);
  try {
    await pgServer.createDatabase('bench');
    await maria.createDatabase('bench');
    const pgTarget = { host: pgServer.host, port: pgServer.port, user: pgServer.user, database: 'bench' };
    const myTarget = { host: maria.host, port: maria.port, user: maria.user, database: 'bench' };
    const dataset = await createDataset(pgTarget, myTarget, rows, workDir);
    const tableMb = (await pgTableBytes(pgTarget)) / 1024 / 1024;
    log(
      `table: ${rows.toLocaleString('en-US')} rows, ${tableMb.toFixed(0)} MB heap in PostgreSQL; ` +
        `generated in ${dataset.totalSeconds.toFixed(1)} s\n\n`,
    );

    const ctx: CaseContext = {
      rows,
      pg: pgTarget,
      mysql: myTarget,
      workDir,
      etldHome,
      etldMain,
      nodePath: process.execPath,
    };
    const peers = venv === null ? null : peerCases(ctx, { venv, scripts, versions: peerVersions });
    skipped.push(...(peers?.skipped ?? []));
    const cases: BenchCase[] = [
      ...baselineCases(ctx),
      ...etldCases(ctx, { checks: values.checks }),
      ...(peers?.cases ?? []),
    ];
    const only = values.only;
    const selected = selectCases(cases, only);
    const results: CaseResult[] = [];
    const runContext = {
      rows,
      repeat,
      tableMb,
      env: process.env,
      etldHome,
      countRows: venv === null ? null : rowCounter(venvPython(venv), scripts.countRows),
      log,
    };
    const pairedTwins = new Set<BenchCase>();
    for (const benchCase of selected) {
      if (pairedTwins.has(benchCase)) continue;
      // A case whose twin with checks is selected too runs alternately with it (runTwins).
      const twin = selected.find((c) => c.kind === 'etld' && c.uncheckedCase === benchCase.case);
      if (twin === undefined) {
        results.push(await runCase(benchCase, runContext));
        continue;
      }
      pairedTwins.add(twin);
      results.push(...(await runTwins(benchCase, twin, runContext)));
    }

    let idle: IdleResult | null = null;
    if (idlePipelines > 0 && (only === undefined || 'idle daemon'.includes(only))) {
      log(`idle daemon with ${idlePipelines} pipelines… `);
      idle = await runIdleCase({
        nodePath: process.execPath,
        etldMain,
        home: join(workDir, 'idle-home'),
        pg: pgTarget,
        pipelines: idlePipelines,
        env: process.env,
        now: startedAt,
      });
      log(idle.error === null ? `steady ${idle.steadyRssMb.toFixed(0)} MB\n` : `${idle.error}\n`);
    }

    const sling = venv === null ? undefined : slingBinary(venv);
    const versions: Record<string, string> = {
      etld: commit,
      node: process.version,
      '@duckdb/node-api': nodePackageVersion(root, '@duckdb/node-api'),
      ...clientVersions(),
      ...(await serverVersions(pgTarget, myTarget)),
      ...(sling !== undefined ? { 'sling (binary)': slingVersion(sling) } : {}),
      ...Object.fromEntries(Object.entries(peerVersions).map(([name, v]) => [name, v ?? 'not installed'])),
    };
    const checks = checkNames === null ? null : checksReport(checkNames, results);
    const report = {
      startedAt,
      rows,
      repeat,
      tableMb,
      machine: machine(),
      versions,
      dataset,
      peerInstallSeconds,
      results,
      idle,
      checks,
      targets: checkTargets(results, idle, checks),
      fleet: null,
      skipped,
    };
    publish(report, outFile, root, log);
  } finally {
    await Promise.all([pgServer.destroy(), maria.destroy()]);
    if (existsSync(workDir)) rmSync(workDir, { recursive: true, force: true });
  }
}

/** Prints the markdown report and writes it to `outFile`, and the JSON record to bench/results/. */
function publish(report: Report, outFile: string, root: string, log: (text: string) => void): void {
  const markdown = renderMarkdown(report);
  log(`\n${markdown}`);
  writeFileSync(outFile, markdown);
  const resultsDir = join(root, 'bench', 'results');
  mkdirSync(resultsDir, { recursive: true });
  const jsonFile = join(resultsDir, `${report.startedAt.toISOString().replace(/[:.]/g, '-')}.json`);
  writeFileSync(jsonFile, `${JSON.stringify(toJson(report), null, 2)}\n`);
  log(`\nreport written to ${outFile}, JSON to ${jsonFile}\n`);
}

main().catch((error: unknown) => {
  process.stderr.write(`bench: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
