/**
 * The watermark-lag metric's input: how old a watermark's value is, when the value is a time.
 * Watermarks are text per shard and only the engine knows the cursor's type, so the value is
 * parsed by shape: `YYYY-MM-DD`, `YYYY-MM-DD HH:MM:SS[.ffffff]` (or with `T`), with an optional
 * zone (`Z`, `+00`, `+05:30`, `-0800`). Numbers, texts and anything else give null (no series).
 * A value without a zone is read as UTC: a `timestamp` cursor of a server in another zone then
 * shows that zone's offset in the lag (docs/observability.md says so).
 */
const TIME_TEXT =
  /^(\d{4})-(\d{2})-(\d{2})(?:[ T](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?)?\s*(Z|[+-]\d{2}(?::?\d{2})?)?$/;

/** Milliseconds since the epoch of a timestamp/date watermark text, or null for other kinds. */
export function watermarkTimeMs(value: string): number | null {
  const match = TIME_TEXT.exec(value.trim());
  if (!match) return null;
  const [, y, mo, d, h, mi, s, frac, zone] = match;
  const ms = frac === undefined ? 0 : Number(frac.slice(0, 3).padEnd(3, '0'));
  const utc = Date.UTC(
    Number(y),
    Number(mo) - 1,
    Number(d),
    Number(h ?? 0),
    Number(mi ?? 0),
    Number(s ?? 0),
    ms,
  );
  if (Number.isNaN(utc)) return null;
  return utc - zoneOffsetMs(zone);
}

function zoneOffsetMs(zone: string | undefined): number {
  if (zone === undefined || zone === 'Z') return 0;
  const sign = zone.startsWith('-') ? -1 : 1;
  const digits = zone.slice(1).replace(':', '');
  const hours = Number(digits.slice(0, 2));
  const minutes = digits.length > 2 ? Number(digits.slice(2, 4)) : 0;
  return sign * (hours * 60 + minutes) * 60_000;
}
