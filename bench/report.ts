/** The benchmark's printed table and its JSON record. */
export interface CaseResult {
  readonly case: string;
  readonly tool: string;
  readonly rows: number;
  /** Median of the repeats. */
  readonly seconds: number;
  readonly allSeconds: readonly number[];
  readonly cpuSeconds: number;
  readonly peakRssMb: number;
  readonly mb: number;
  readonly error: string | null;
}

export interface JsonRecord {
  readonly case: string;
  readonly tool: string;
  readonly rows: number;
  readonly seconds: number;
  readonly rows_per_s: number;
  readonly ratio_to_baseline: number | null;
  readonly peak_rss_mb: number;
  readonly cpu_seconds: number;
  readonly mb_per_s: number;
  readonly all_seconds: readonly number[];
  readonly error: string | null;
}

function fmt(value: number, digits = 0): string {
  return Number.isFinite(value)
    ? value.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits })
    : '—';
}

/** The baseline for a case is the bulk-copy client of the same source database. */
export function baselineFor(result: CaseResult, results: readonly CaseResult[]): CaseResult | undefined {
  const source = result.case.split(' ')[0];
  return results.find(
    (r) => r.tool === (source === 'mysql' ? 'mysql --quick' : 'psql \\copy') && r.error === null,
  );
}

export function toJson(results: readonly CaseResult[]): JsonRecord[] {
  return results.map((r) => {
    const baseline = baselineFor(r, results);
    const rowsPerS = r.rows / r.seconds;
    return {
      case: r.case,
      tool: r.tool,
      rows: r.rows,
      seconds: r.seconds,
      rows_per_s: rowsPerS,
      ratio_to_baseline: baseline ? rowsPerS / (baseline.rows / baseline.seconds) : null,
      peak_rss_mb: r.peakRssMb,
      cpu_seconds: r.cpuSeconds,
      mb_per_s: r.mb / r.seconds,
      all_seconds: r.allSeconds,
      error: r.error,
    };
  });
}

/** Renders the table; `peers` lists, for each etld case, the peer case it is compared with. */
export function renderTable(
  results: readonly CaseResult[],
  peerOf: (r: CaseResult) => readonly CaseResult[],
): string {
  const header = [
    'case',
    'tool',
    'rows/s',
    'MB/s',
    'x baseline',
    'vs peers',
    'peak RSS MB',
    'CPU s',
    'runs (s)',
  ];
  const rows = results.map((r) => {
    if (r.error !== null) return [r.case, r.tool, 'failed', '', '', '', '', '', r.error.slice(0, 60)];
    const rowsPerS = r.rows / r.seconds;
    const baseline = baselineFor(r, results);
    const peers = peerOf(r)
      .filter((p) => p.error === null)
      .map((p) => `${fmt(rowsPerS / (p.rows / p.seconds), 2)}x ${p.tool}`)
      .join(', ');
    return [
      r.case,
      r.tool,
      fmt(rowsPerS),
      fmt(r.mb / r.seconds, 1),
      baseline ? fmt(rowsPerS / (baseline.rows / baseline.seconds), 2) : '',
      peers,
      fmt(r.peakRssMb),
      fmt(r.cpuSeconds, 1),
      r.allSeconds.map((s) => fmt(s, 2)).join(' / '),
    ];
  });
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => (row[i] ?? '').length)));
  const line = (cells: readonly string[]): string =>
    cells
      .map((c, i) => c.padEnd(widths[i] ?? 0))
      .join('  ')
      .trimEnd();
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n');
}
