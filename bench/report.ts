/** The benchmark's report: markdown (printed and written to --out) and a JSON record. */
import type { ChecksReport } from './check-cost.js';
import type { DatasetTimings } from './dataset.js';
import type { FleetResult } from './fleet-case.js';
import { fleetJson, fleetSection } from './fleet-report.js';
import type { IdleResult } from './idle.js';
import { fmt, signedPct, table } from './markdown.js';
import { STAGES, type Stages } from './run-record.js';
import type { TargetCheck } from './targets.js';
import { THREAD_GROUPS, type ThreadCpu, type ThreadGroup } from './threads.js';
import type { Machine } from './versions.js';

export interface CaseResult {
  readonly case: string;
  readonly tool: string;
  readonly kind: 'baseline' | 'etld' | 'peer';
  readonly rows: number;
  /** Median of the repeats. */
  readonly seconds: number;
  readonly allSeconds: readonly number[];
  readonly cpuSeconds: number;
  readonly peakRssMb: number;
  readonly mb: number;
  readonly comparesWith: string | null;
  /** etld with checks: the same pipeline's case without them. */
  readonly uncheckedCase: string | null;
  readonly error: string | null;
  readonly note: string | null;
  /** etld: the engine's per-stage CPU seconds of the median run (null: not recorded). */
  readonly stages: Stages | null;
  /** GNU time's CPU seconds of the run that `stages` and `threads` come from. */
  readonly medianRunCpuSeconds: number;
  readonly threads: Readonly<Record<ThreadGroup, number>> | null;
  readonly threadNames: string | null;
  /** Every thread of the median run as sampled (JSON only). */
  readonly threadDetail: readonly ThreadCpu[] | null;
}

export interface Report {
  readonly startedAt: Date;
  readonly rows: number;
  readonly repeat: number;
  readonly tableMb: number;
  readonly machine: Machine;
  readonly versions: Readonly<Record<string, string>>;
  readonly dataset: DatasetTimings;
  readonly peerInstallSeconds: number | null;
  readonly results: readonly CaseResult[];
  readonly idle: IdleResult | null;
  /** Null without --checks. */
  readonly checks: ChecksReport | null;
  readonly targets: readonly TargetCheck[];
  /** The fleet comparison (--fleet), which runs instead of the cases; null without it. */
  readonly fleet: FleetResult | null;
  /** Peers (or peer modes) that did not run, and why. */
  readonly skipped: readonly string[];
}

export function rowsPerSecond(r: CaseResult): number {
  return r.error === null ? r.rows / r.seconds : Number.NaN;
}

/** The baseline for a case is the bulk-copy client of the same source database. */
export function baselineFor(result: CaseResult, results: readonly CaseResult[]): CaseResult | undefined {
  const source = result.case.split(' ')[0];
  return results.find(
    (r) => r.tool === (source === 'mysql' ? 'mysql --quick' : 'psql \\copy') && r.error === null,
  );
}

export function ratioToBaseline(result: CaseResult, results: readonly CaseResult[]): number {
  const baseline = baselineFor(result, results);
  return baseline === undefined ? Number.NaN : rowsPerSecond(result) / rowsPerSecond(baseline);
}

export function label(r: CaseResult): string {
  return `${r.case} (${r.tool})`;
}

function resultsTable(results: readonly CaseResult[]): string {
  const rows = results.map((r) =>
    r.error !== null
      ? [label(r), `failed: ${r.error.slice(0, 160)}`, '', '', '']
      : [
          label(r),
          fmt(rowsPerSecond(r)),
          fmt(ratioToBaseline(r, results), 2),
          `${fmt(r.peakRssMb)} MB`,
          fmt(r.cpuSeconds, 1),
        ],
  );
  return table(['case', 'rows/s', '× baseline', 'peak RSS', 'CPU s'], ['l', 'r', 'r', 'r', 'r'], rows);
}

function stagesTable(etld: readonly CaseResult[]): string {
  const rows = etld.map((r) => [
    r.case,
    ...STAGES.map((stage) => fmt(r.stages?.[stage] ?? Number.NaN, 2)),
    fmt(r.medianRunCpuSeconds, 1),
  ]);
  return table(
    ['case', ...STAGES, 'total CPU (GNU time)'],
    ['l', ...STAGES.map(() => 'r' as const), 'r'],
    rows,
  );
}

function threadsTable(etld: readonly CaseResult[]): string {
  const rows = etld.map((r) => {
    const groups = r.threads;
    const sampled = groups === null ? Number.NaN : THREAD_GROUPS.reduce((sum, g) => sum + groups[g], 0);
    return [
      r.case,
      ...THREAD_GROUPS.map((g) => fmt(groups?.[g] ?? Number.NaN, 2)),
      fmt(r.medianRunCpuSeconds - sampled, 2),
      fmt(r.medianRunCpuSeconds, 1),
    ];
  });
  return table(
    ['case', ...THREAD_GROUPS, 'unsampled', 'total CPU (GNU time)'],
    ['l', ...THREAD_GROUPS.map(() => 'r' as const), 'r', 'r'],
    rows,
  );
}

/**
 * The checks' own work, less noisy than the wall-time difference of two separate runs: the
 * `settle` stage CPU of the checked run (where the checks are judged; 0 without checks), in % of
 * the unchecked run's CPU.
 */
function judgingShare(checked: CaseResult, unchecked: CaseResult | undefined): string {
  const settle = checked.stages?.settle;
  if (settle === undefined || unchecked === undefined || !(unchecked.cpuSeconds > 0)) return 'n/a';
  return `${fmt(settle, 2)} s, ${fmt((settle / unchecked.cpuSeconds) * 100, 1)} %`;
}

function checksSection(checks: ChecksReport): string[] {
  const intro =
    `Checks (bench/checks.ts, all passing on the generated rows): ${checks.names.join(', ')}. ` +
    'With checks, the rows stream to the destination as without; once every part is in, the checks are judged before the commit from the columns they use, read back from the Parquet files the destination wrote (Delta, DuckDB), which is the `settle` stage below (its CPU: “judging CPU”, in % of the run without checks). ' +
    'The two run alternately, run by run, so drift in the machine’s load falls on both. ' +
    'Cost: the extra wall time of the case with checks over the same pipeline without them, in this ' +
    'bench run, in % of the run without; from the medians, and from each case’s fastest run (other load ' +
    'on the machine only adds time: when the two disagree, the figures are noise).';
  if (checks.costs.length === 0) return [intro, '', 'No case with checks was selected (see --only).'];
  /** `without → with`, each side formatted by `value`. */
  const pair = (without: number | undefined, withChecks: number, value: (n: number) => string): string =>
    `${value(without ?? Number.NaN)} → ${value(withChecks)}`;
  const rows = checks.costs.map(({ checked, unchecked, pct, fastestPct }) =>
    checked.error !== null
      ? [label(checked), `failed: ${checked.error.slice(0, 160)}`, '', '', '', '', '']
      : [
          label(checked),
          pair(unchecked?.seconds, checked.seconds, (n) => fmt(n, 2)),
          `${signedPct(pct)} of the run’s time`,
          signedPct(fastestPct),
          pair(unchecked === undefined ? undefined : rowsPerSecond(unchecked), rowsPerSecond(checked), fmt),
          pair(unchecked?.peakRssMb, checked.peakRssMb, (n) => `${fmt(n)} MB`),
          pair(unchecked?.cpuSeconds, checked.cpuSeconds, (n) => fmt(n, 1)),
          judgingShare(checked, unchecked),
        ],
  );
  const verdicts = checks.costs.map(({ checked, pct, ok }) => {
    const subject = `${label(checked)}: target < ${checks.targetPct} % of the run’s time`;
    if (ok === null)
      return `- **n/a** ${subject}: not measured, the case ${checked.error !== null ? 'with' : 'without'} checks failed or did not run`;
    return `- **${ok ? 'PASS' : 'MISS'}** ${subject}: ${signedPct(pct)}, ${ok ? 'met' : 'missed'} in this run`;
  });
  return [
    intro,
    '',
    table(
      [
        'case',
        'wall s, without → with',
        'cost (medians)',
        'cost (fastest runs)',
        'rows/s, without → with',
        'peak RSS, without → with',
        'CPU s, without → with',
        'judging CPU',
      ],
      ['l', 'r', 'r', 'r', 'r', 'r', 'r', 'r'],
      rows,
    ),
    '',
    ...verdicts,
  ];
}

function idleSection(idle: IdleResult | null): string[] {
  if (idle === null) return ['Not run.'];
  if (!Number.isFinite(idle.steadyRssMb)) return [`Failed: ${idle.error ?? 'unknown'}`];
  return [
    `${idle.pipelines} pipelines, none due; ${
      idle.readySeconds === null
        ? 'never listed every pipeline'
        : `control socket listed them ${fmt(idle.readySeconds, 1)} s after start`
    }.`,
    `RSS over ${idle.samples} samples (every 250 ms): steady (median) ${fmt(idle.steadyRssMb)} MB, ` +
      `highest ${fmt(idle.windowMaxRssMb)} MB; peak since start (VmHWM) ${fmt(idle.peakRssMb)} MB.`,
    ...(idle.error !== null ? [`Note: ${idle.error}`] : []),
  ];
}

/** The sections of the bench's cases: everything but the fleet comparison, which runs alone. */
function casesSections(report: Report): string[] {
  const { results } = report;
  const etld = results.filter((r) => r.kind === 'etld' && r.error === null);
  const notes = results.filter((r) => r.note !== null).map((r) => `- ${label(r)}: ${r.note ?? ''}`);
  return [
    '## Results',
    '',
    resultsTable(results),
    '',
    'Runs (s):',
    '',
    ...results.map((r) => `- ${label(r)}: ${r.allSeconds.map((s) => fmt(s, 2)).join(' / ') || '—'}`),
    ...(notes.length > 0 ? ['', 'Notes:', '', ...notes] : []),
    '',
    ...(report.checks !== null
      ? ['## etld: cost of data quality checks (--checks)', '', ...checksSection(report.checks), '']
      : []),
    '## etld: CPU seconds per stage (the engine’s stages_json, median run)',
    '',
    etld.length > 0 ? stagesTable(etld) : 'No etld case ran.',
    '',
    '## etld: CPU seconds per thread group (/proc sampling, median run)',
    '',
    etld.length > 0 ? threadsTable(etld) : 'No etld case ran.',
    '',
    ...etld.map((r) => `- ${r.case}: ${r.threadNames ?? '—'}`),
    '',
    '## Idle daemon',
    '',
    ...idleSection(report.idle),
    '',
    '## Targets',
    '',
    ...report.targets.map((t) => `- **${t.ok === null ? 'n/a' : t.ok ? 'PASS' : 'MISS'}** ${t.text}`),
    '',
  ];
}

function datasetLine(d: DatasetTimings): string {
  const mysql =
    d.mysqlLoadSeconds === null
      ? ''
      : `MariaDB load ${fmt(d.mysqlLoadSeconds, 1)} s (overlapping the fill), `;
  return (
    `- Dataset generated in ${fmt(d.totalSeconds, 1)} s: PostgreSQL fill ${fmt(d.pgFillSeconds, 1)} s, ` +
    `${mysql}primary key + VACUUM/ANALYZE ${fmt(d.finishSeconds, 1)} s.`
  );
}

export function renderMarkdown(report: Report): string {
  const { fleet } = report;
  return [
    `# etld benchmark, ${report.startedAt.toISOString()}`,
    '',
    `- Table: ${fmt(report.rows)} rows × 12 columns, ${fmt(report.tableMb)} MB heap in PostgreSQL; ` +
      `${report.repeat} run(s) per case, the median reported (peak RSS: the highest run).`,
    `- Machine: ${report.machine.cpu}, ${report.machine.cores} cores, ${fmt(report.machine.memoryGb, 1)} GB; ` +
      'servers, tools and the bench share it.',
    datasetLine(report.dataset),
    ...(report.peerInstallSeconds !== null
      ? [`- --install-peers took ${fmt(report.peerInstallSeconds, 0)} s.`]
      : []),
    '',
    ...(fleet === null
      ? casesSections(report)
      : [
          `## Fleet: one table on ${fleet.setups.at(-1)?.hosts ?? '?'} hosts (--fleet)`,
          '',
          ...fleetSection(fleet, report.machine.cores),
          '',
        ]),
    '## Skipped',
    '',
    ...(report.skipped.length > 0 ? report.skipped.map((s) => `- ${s}`) : ['- nothing']),
    '',
    '## Versions',
    '',
    table(
      ['tool', 'version'],
      ['l', 'l'],
      Object.entries(report.versions).map(([tool, version]) => [tool, version]),
    ),
    '',
  ].join('\n');
}

export function toJson(report: Report): unknown {
  return {
    started_at: report.startedAt.toISOString(),
    rows: report.rows,
    repeat: report.repeat,
    machine: report.machine,
    versions: report.versions,
    dataset: report.dataset,
    peer_install_seconds: report.peerInstallSeconds,
    results: report.results.map((r) => ({
      case: r.case,
      tool: r.tool,
      kind: r.kind,
      rows: r.rows,
      seconds: r.seconds,
      rows_per_s: rowsPerSecond(r),
      ratio_to_baseline: ratioToBaseline(r, report.results),
      peak_rss_mb: r.peakRssMb,
      cpu_seconds: r.cpuSeconds,
      mb_per_s: r.mb / r.seconds,
      all_seconds: r.allSeconds,
      compares_with: r.comparesWith,
      unchecked_case: r.uncheckedCase,
      stages: r.stages,
      threads: r.threads,
      thread_names: r.threadNames,
      thread_detail: r.threadDetail,
      error: r.error,
      note: r.note,
    })),
    checks:
      report.checks === null
        ? null
        : {
            names: report.checks.names,
            target_pct: report.checks.targetPct,
            costs: report.checks.costs.map((c) => ({
              case: c.checked.case,
              unchecked_case: c.unchecked?.case ?? null,
              cost_pct: c.pct,
              fastest_runs_cost_pct: c.fastestPct,
              ok: c.ok,
            })),
          },
    idle: report.idle,
    targets: report.targets,
    fleet: report.fleet === null ? null : fleetJson(report.fleet),
    skipped: report.skipped,
  };
}
