/** Number formatting for narrow table cells: operators read magnitudes, not digits. */

const COMPACT_UNITS = [
  [1e12, 'T'],
  [1e9, 'G'],
  [1e6, 'M'],
  [1e3, 'k'],
] as const;

/** `950`, `12.3k`, `4.5M`: at most six characters for any count below 1e15. */
export function formatCount(value: number): string {
  if (!Number.isFinite(value)) return '—';
  const sign = value < 0 ? '-' : '';
  const abs = Math.abs(value);
  for (const [size, unit] of COMPACT_UNITS) {
    // Just below a unit boundary rounds up into it: 999,999 reads `1M`, not `1000k`.
    if (abs >= size * 0.9995) {
      const scaled = abs / size;
      // One decimal below 100 keeps `12.3k` readable; above it the decimal is noise.
      const text = scaled < 100 ? scaled.toFixed(1).replace(/\.0$/, '') : Math.round(scaled).toString();
      return `${sign}${text}${unit}`;
    }
  }
  return `${sign}${Math.round(abs)}`;
}

/** `1,234,567`: exact counts for the detail view, where there is room. */
export function formatExact(value: number): string {
  return Math.round(value).toLocaleString('en-US');
}

/** Rows per second, e.g. `12.3k r/s`; `—` when nothing is known. */
export function formatRate(rowsPerSecond: number | null): string {
  if (rowsPerSecond === null || !Number.isFinite(rowsPerSecond) || rowsPerSecond < 0) return '—';
  if (rowsPerSecond > 0 && rowsPerSecond < 10) return `${rowsPerSecond.toFixed(1)} r/s`;
  return `${formatCount(rowsPerSecond)} r/s`;
}

export function formatPercent(fraction: number | null): string {
  if (fraction === null || !Number.isFinite(fraction)) return '—';
  return `${Math.round(Math.min(Math.max(fraction, 0), 1) * 100)}%`;
}
