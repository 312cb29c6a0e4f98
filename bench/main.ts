/**
 * `npm run bench`: generates the benchmark table in throwaway PostgreSQL and MariaDB servers and
 * measures, in one run on one machine, the bulk-copy baselines, etld's pipelines and (when
 * installed) Sling and dlt. Prints a table and writes bench/results/<timestamp>.json.
 * Performance is measured here, never asserted by timed tests.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { startMariaDb } from '../test/helpers/mariadb-server.js';
import { startPostgres } from '../test/helpers/postgres-server.js';
import { buildCases, type BenchCase } from './cases.js';
import { copyDatasetToMysql, createPgDataset } from './dataset.js';
import { measure, median } from './measure.js';
import { DEFAULT_VENV, peerInstallCommands, slingBinary } from './peers.js';
import { renderTable, toJson, type CaseResult } from './report.js';

const HELP = `npm run bench -- [--rows N] [--repeat N] [--only SUBSTRING] [--install-peers] [--venv DIR] [--no-peers]

  --rows N          rows in the generated table (default 10000000)
  --repeat N        runs per case; the median is reported (default 3)
  --only TEXT       run only cases whose name or tool contains TEXT (baselines always run)
  --install-peers   create a throwaway virtualenv with Sling and dlt (PyPI) if missing
  --venv DIR        where the peers' virtualenv lives (default ${DEFAULT_VENV})
  --no-peers        skip Sling and dlt
`;

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      rows: { type: 'string', default: '10000000' },
      repeat: { type: 'string', default: '3' },
      only: { type: 'string' },
      'install-peers': { type: 'boolean', default: false },
      venv: { type: 'string', default: DEFAULT_VENV },
      'no-peers': { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) {
    process.stdout.write(HELP);
    return;
  }
  const rows = Number(values.rows);
  const repeat = Number(values.repeat);
  if (!Number.isInteger(rows) || rows < 1 || !Number.isInteger(repeat) || repeat < 1) {
    process.stderr.write(`bench: --rows and --repeat take positive integers\n${HELP}`);
    process.exit(2);
  }
  const repoRoot = fileURLToPath(new URL('../../', import.meta.url));
  const etldMain = join(repoRoot, 'dist', 'daemon', 'main.js');

  let venv: string | null = values['no-peers'] ? null : values.venv;
  if (venv !== null && slingBinary(venv) === undefined) {
    if (values['install-peers']) {
      for (const command of peerInstallCommands(venv)) {
        process.stdout.write(`installing peers: ${command.join(' ')}\n`);
        const result = spawnSync(command[0] ?? '', command.slice(1), { stdio: 'inherit' });
        if (result.status !== 0) {
          process.stderr.write('bench: installing the peers failed; continuing without them\n');
          venv = null;
          break;
        }
      }
    } else {
      process.stdout.write(
        `peers not installed in ${venv} (add --install-peers to install Sling and dlt); running without them\n`,
      );
      venv = null;
    }
  }

  const workDir = mkdtempSync(join(tmpdir(), 'etld-bench-'));
  mkdirSync(join(workDir, 'etld-home', 'pipelines'), { recursive: true });
  process.stdout.write(`starting PostgreSQL and MariaDB, generating ${rows.toLocaleString('en-US')} rows…\n`);
  const [pgServer, maria] = await Promise.all([
    startPostgres({ settings: { max_wal_size: '4GB' } }),
    startMariaDb(),
  ]);
  try {
    await pgServer.createDatabase('bench');
    await maria.createDatabase('bench');
    const pgTarget = { host: pgServer.host, port: pgServer.port, user: pgServer.user, database: 'bench' };
    const myTarget = { host: maria.host, port: maria.port, user: maria.user, database: 'bench' };
    await createPgDataset(pgTarget, rows);
    await copyDatasetToMysql(pgTarget, myTarget);
    const sizeClient = new pg.Client(pgTarget);
    await sizeClient.connect();
    const size = await sizeClient.query<{ bytes: string }>("SELECT pg_relation_size('bench') AS bytes");
    await sizeClient.end();
    const tableMb = Number(size.rows[0]?.bytes ?? 0) / 1024 / 1024;
    process.stdout.write(
      `table: ${rows.toLocaleString('en-US')} rows, ${tableMb.toFixed(0)} MB heap in PostgreSQL\n\n`,
    );

    const cases = buildCases({
      rows,
      pg: pgTarget,
      mysql: myTarget,
      workDir,
      etldMain,
      nodePath: process.execPath,
      venv,
    });
    const selected = cases.filter(
      (c) =>
        c.tool.includes('--quick') ||
        c.tool.includes('copy') ||
        values.only === undefined ||
        `${c.case} ${c.tool}`.includes(values.only),
    );
    const results: CaseResult[] = [];
    for (const benchCase of selected) results.push(await runCase(benchCase, repeat, rows, tableMb));

    const peerOf = (r: CaseResult): CaseResult[] =>
      r.tool === 'etld'
        ? results.filter(
            (p) => selected.find((c) => c.tool === p.tool && c.case === p.case)?.comparesWith === r.case,
          )
        : [];
    process.stdout.write(`\n${renderTable(results, peerOf)}\n`);
    const resultsDir = join(repoRoot, 'bench', 'results');
    mkdirSync(resultsDir, { recursive: true });
    const file = join(resultsDir, `${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
    writeFileSync(file, `${JSON.stringify(toJson(results), null, 2)}\n`);
    process.stdout.write(`\nresults written to ${file}\n`);
  } finally {
    await Promise.all([pgServer.destroy(), maria.destroy()]);
    if (existsSync(workDir)) rmSync(workDir, { recursive: true, force: true });
  }
}

async function runCase(
  benchCase: BenchCase,
  repeat: number,
  rows: number,
  tableMb: number,
): Promise<CaseResult> {
  const seconds: number[] = [];
  const cpu: number[] = [];
  const rss: number[] = [];
  for (let i = 0; i < repeat; i++) {
    process.stdout.write(`${benchCase.case} [${benchCase.tool}] run ${i + 1}/${repeat}… `);
    const m = await measure(benchCase.command, benchCase.args, { ...process.env, ...benchCase.env });
    if (m.exitCode !== 0) {
      process.stdout.write('failed\n');
      const reason = m.output.trim().split('\n').slice(-3).join(' | ');
      return {
        case: benchCase.case,
        tool: benchCase.tool,
        rows,
        seconds: Number.NaN,
        allSeconds: seconds,
        cpuSeconds: Number.NaN,
        peakRssMb: Number.NaN,
        mb: tableMb,
        error: `exit ${m.exitCode}: ${reason}`,
      };
    }
    process.stdout.write(`${m.seconds.toFixed(2)} s, ${m.peakRssMb.toFixed(0)} MB\n`);
    seconds.push(m.seconds);
    cpu.push(m.cpuSeconds);
    rss.push(m.peakRssMb);
  }
  return {
    case: benchCase.case,
    tool: benchCase.tool,
    rows,
    seconds: median(seconds),
    allSeconds: seconds,
    cpuSeconds: median(cpu),
    peakRssMb: Math.max(...rss),
    mb: tableMb,
    error: null,
  };
}

main().catch((error: unknown) => {
  process.stderr.write(`bench: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
