/** The fleet comparison's part of the report (fleet-case.ts): its markdown section and JSON record. */
import { setupLabel, type FleetResult, type FleetRun, type FleetSetupResult } from './fleet-case.js';
import { fmt, signedPct, table } from './markdown.js';
import { median } from './measure.js';

interface SetupSummary {
  readonly setup: FleetSetupResult;
  /** Medians of the runs (NaN when none passed). */
  readonly seconds: number;
  readonly fastestSeconds: number;
  readonly recordedSeconds: number;
  readonly rowsPerSecond: number;
  readonly cpuSeconds: number;
  readonly otherHostsCpuSeconds: number;
  /** The highest of the runs. */
  readonly peakRssMb: number;
  readonly otherHostsPeakRssMb: number;
  /** Every host seen holding the run lease, over all runs. */
  readonly ranOn: readonly string[];
}

function medianOf(runs: readonly FleetRun[], value: (run: FleetRun) => number): number {
  return runs.length === 0 ? Number.NaN : median(runs.map(value));
}

function highestOf(runs: readonly FleetRun[], value: (run: FleetRun) => number): number {
  return runs.length === 0 ? Number.NaN : Math.max(...runs.map(value));
}

function summarise(setup: FleetSetupResult, rows: number): SetupSummary {
  const { runs } = setup;
  const ok = setup.error === null;
  const seconds = ok ? medianOf(runs, (r) => r.seconds) : Number.NaN;
  return {
    setup,
    seconds,
    fastestSeconds: ok && runs.length > 0 ? Math.min(...runs.map((r) => r.seconds)) : Number.NaN,
    recordedSeconds: ok ? medianOf(runs, (r) => r.recordedSeconds) : Number.NaN,
    rowsPerSecond: rows / seconds,
    cpuSeconds: ok ? medianOf(runs, (r) => r.cpuSeconds) : Number.NaN,
    otherHostsCpuSeconds: ok ? medianOf(runs, (r) => r.otherHostsCpuSeconds) : Number.NaN,
    peakRssMb: ok ? highestOf(runs, (r) => r.peakRssMb) : Number.NaN,
    otherHostsPeakRssMb: ok ? highestOf(runs, (r) => r.otherHostsPeakRssMb) : Number.NaN,
    ranOn: [...new Set(runs.flatMap((r) => r.ranOn))],
  };
}

/** How far a setup's runs lie apart: slowest minus fastest, in % of their median. */
function spreadPct(runs: readonly FleetRun[]): number {
  const seconds = runs.map((r) => r.seconds);
  return runs.length === 0
    ? Number.NaN
    : ((Math.max(...seconds) - Math.min(...seconds)) / median(seconds)) * 100;
}

/** Extra wall time of the N hosts over the one host, in % of the one host's. */
function overheadPct(one: SetupSummary | undefined, many: SetupSummary | undefined): number {
  return one === undefined || many === undefined ? Number.NaN : (many.seconds / one.seconds - 1) * 100;
}

function fastestOverheadPct(one: SetupSummary | undefined, many: SetupSummary | undefined): number {
  return one === undefined || many === undefined
    ? Number.NaN
    : (many.fastestSeconds / one.fastestSeconds - 1) * 100;
}

/** N hosts against one: wall time, the noise it has to stand out of, and the idle hosts' CPU. */
function comparison(
  summaries: readonly SetupSummary[],
  one: SetupSummary | undefined,
  many: SetupSummary | undefined,
): string {
  const spreads = summaries.map((s) => `${setupLabel(s.setup.hosts)} ${fmt(spreadPct(s.setup.runs), 1)} %`);
  const idleShare = many === undefined ? Number.NaN : (many.otherHostsCpuSeconds / many.cpuSeconds) * 100;
  return (
    `Wall time of ${setupLabel(many?.setup.hosts ?? Number.NaN)} against 1: ` +
    `${signedPct(overheadPct(one, many))} (medians), ${signedPct(fastestOverheadPct(one, many))} (fastest runs). ` +
    `The runs of each setup spread over ${spreads.join(', ')} of its median (slowest minus fastest): a ` +
    'difference between the setups within that spread is the machine’s noise. The other hosts’ CPU ' +
    `during a run: ${fmt(idleShare, 1)} % of the running host’s (medians).`
  );
}

function row(s: SetupSummary, one: SetupSummary | undefined): string[] {
  const name = setupLabel(s.setup.hosts);
  if (s.setup.error !== null) return [name, `failed: ${s.setup.error.slice(0, 160)}`, '', '', '', '', '', ''];
  const single = s.setup.hosts === 1;
  return [
    name,
    fmt(s.seconds, 2),
    fmt(s.rowsPerSecond),
    single || one === undefined ? '—' : fmt(s.rowsPerSecond / one.rowsPerSecond, 2),
    s.ranOn.join(', ') || '—',
    `${fmt(s.peakRssMb)} MB`,
    fmt(s.cpuSeconds, 1),
    single ? '—' : `${fmt(s.otherHostsCpuSeconds, 1)} CPU s, ${fmt(s.otherHostsPeakRssMb)} MB`,
  ];
}

/** The markdown section; `cores` are the machine's, which every daemon of both setups shares. */
export function fleetSection(fleet: FleetResult, cores: number): string[] {
  const summaries = fleet.setups.map((s) => summarise(s, fleet.rows));
  const one = summaries.find((s) => s.setup.hosts === 1);
  const many = summaries.find((s) => s.setup.hosts > 1);
  const n = many?.setup.hosts ?? 0;
  return [
    `${fleet.case} (\`chunk_rows\` ${fmt(fleet.chunkRows)}, \`parallelism\` ${fleet.parallelism}) run by one etld ` +
      `daemon with a PostgreSQL state store (a fleet of one), and by ${n} daemons sharing one. Each run ` +
      'starts from nothing: a new state database on the source’s PostgreSQL server, a new home per host ' +
      `(its own \`fleet.host_name\`, \`lease: ${fleet.leaseSeconds}s\`, the same pipeline file), one lake ` +
      'directory the hosts share, the daemons started together. Once the store lists every host, the fleet ' +
      `idles ${fmt(fleet.settleSeconds)} s, then \`etlctl start ${fleet.pipeline} --wait\` is sent to ` +
      `${fleet.startedOn}. The two setups alternate run by run.`,
    '',
    'Wall time: from etlctl’s start to its exit (the request, the run, the answer); rows/s from it. ' +
      '“Ran on”: the hosts seen holding the run lease. Peak RSS: VmHWM of that daemon, started for the run ' +
      '(the highest run). CPU: the daemons’ user + system seconds from the start request to the end (medians). ' +
      'Every run is checked: etlctl must report it succeeded with every row loaded, and the Delta table must ' +
      'hold exactly the table’s rows (its log replayed, the Parquet files counted by DuckDB); a failed check ' +
      'fails its setup.',
    '',
    table(
      [
        'setup',
        'wall s',
        'rows/s',
        '× 1 host',
        'ran on',
        'peak RSS (that host)',
        'CPU s (that host)',
        'other hosts meanwhile',
      ],
      ['l', 'r', 'r', 'r', 'l', 'r', 'r', 'r'],
      summaries.map((s) => row(s, one)),
    ),
    '',
    'Runs (s, etlctl start --wait; the run’s own record in brackets):',
    '',
    ...summaries.map(
      (s) =>
        `- ${setupLabel(s.setup.hosts)}: ${
          s.setup.runs.map((r) => `${fmt(r.seconds, 2)} (${fmt(r.recordedSeconds, 2)})`).join(' / ') || '—'
        }`,
    ),
    '',
    comparison(summaries, one, many),
    '',
    `A run stays on one host, the one holding the pipeline’s run lease, so ${n} hosts do not speed up one ` +
      `table; on this ${cores}-core machine all ${n} daemons also share the same CPUs. The figure shows the ` +
      'fleet’s coordination overhead (claims, leases, heartbeats, the other hosts’ idle load), not a speed-up.',
  ];
}

export function fleetJson(fleet: FleetResult): unknown {
  const summaries = fleet.setups.map((s) => summarise(s, fleet.rows));
  const one = summaries.find((s) => s.setup.hosts === 1);
  const many = summaries.find((s) => s.setup.hosts > 1);
  return {
    case: fleet.case,
    pipeline: fleet.pipeline,
    rows: fleet.rows,
    chunk_rows: fleet.chunkRows,
    parallelism: fleet.parallelism,
    lease_seconds: fleet.leaseSeconds,
    settle_seconds: fleet.settleSeconds,
    started_on: fleet.startedOn,
    overhead_pct: overheadPct(one, many),
    fastest_runs_overhead_pct: fastestOverheadPct(one, many),
    setups: summaries.map((s) => ({
      hosts: s.setup.hosts,
      seconds: s.seconds,
      spread_pct: spreadPct(s.setup.runs),
      rows_per_s: s.rowsPerSecond,
      recorded_seconds: s.recordedSeconds,
      ran_on: s.ranOn,
      peak_rss_mb: s.peakRssMb,
      cpu_seconds: s.cpuSeconds,
      other_hosts_cpu_seconds: s.otherHostsCpuSeconds,
      other_hosts_peak_rss_mb: s.otherHostsPeakRssMb,
      error: s.setup.error,
      runs: s.setup.runs.map((r) => ({
        seconds: r.seconds,
        recorded_seconds: r.recordedSeconds,
        ran_on: r.ranOn,
        peak_rss_mb: r.peakRssMb,
        cpu_seconds: r.cpuSeconds,
        other_hosts_cpu_seconds: r.otherHostsCpuSeconds,
        other_hosts_peak_rss_mb: r.otherHostsPeakRssMb,
      })),
    })),
  };
}
