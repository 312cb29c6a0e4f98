import type { WatermarkValue } from './protocol.js';

/**
 * A pipeline's watermarks in one line, the same in etlctl and etl-console: the value for an
 * unsharded source, `s1=…, s2=…` for shards, `-` before the first committed run.
 */
export function watermarkText(watermarks: readonly WatermarkValue[]): string {
  if (watermarks.length === 0) return '-';
  const only = watermarks[0];
  if (watermarks.length === 1 && only?.shard === 'default') return only.value;
  return watermarks.map((w) => `${w.shard}=${w.value}`).join(', ');
}
