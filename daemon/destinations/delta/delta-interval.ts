/** Parses Delta's `interval <n> <unit>` table properties (e.g. `interval 1 week`, DeltaConfig.scala). */
const UNIT_MS: Readonly<Record<string, number>> = {
  millisecond: 1,
  second: 1000,
  minute: 60_000,
  hour: 3_600_000,
  day: 86_400_000,
  week: 7 * 86_400_000,
};

export function parseIntervalMs(text: string): number | undefined {
  const match = /^\s*(?:interval\s+)?(\d+)\s+([a-z]+?)s?\s*$/i.exec(text);
  if (!match) return undefined;
  const unit = UNIT_MS[(match[2] ?? '').toLowerCase()];
  return unit === undefined ? undefined : Number(match[1]) * unit;
}
