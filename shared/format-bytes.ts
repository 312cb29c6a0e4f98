/**
 * Byte counts as people read them, the one way etlctl, etl-console and alert mails print them:
 * binary units with their IEC names (a KiB is 1024 bytes, and says so), whole numbers for bytes
 * and from 100 up, one decimal below 100 (`512 B`, `1.5 KiB`, `120 GiB`); `—` for a count that is
 * not one (negative or not finite).
 */
const BYTE_UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'] as const;

export function formatBytes(bytes: number): string {
  if (!Number.isFinite(bytes) || bytes < 0) return '—';
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < BYTE_UNITS.length - 1) {
    value /= 1024;
    unit += 1;
  }
  const text = unit === 0 || value >= 100 ? Math.round(value).toString() : value.toFixed(1);
  return `${text} ${BYTE_UNITS[unit] ?? 'B'}`;
}
