/**
 * Random column values for the workload, drawn from the seeded PRNG only.
 *
 * Decisions:
 * - Text mixes ASCII with a few characters that stress CSV staging and encodings (comma, double
 *   quote, é, ß, 中, an em dash); no NUL and no newline.
 * - Decimals are drawn as integer cents and printed exactly (no float rounding).
 * - Text cursors are a base-36 counter, zero-padded to 8 characters, with each letter's case drawn
 *   at random: they increase in the order of case-insensitive collations (ICU `en-x-icu`, MariaDB
 *   `utf8mb4_general_ci`: 'a' < 'B' < 'c') but not in byte order.
 */
import type { Prng } from './prng.js';

const PLAIN = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 ';
const SPICY = [',', '"', 'é', 'ß', '中', '—', "'", ';'];

export function randomText(prng: Prng, min: number, max: number): string {
  const length = prng.int(min, max);
  let out = '';
  for (let i = 0; i < length; i++) {
    out += prng.chance(0.04) ? prng.pick(SPICY) : PLAIN.charAt(prng.int(0, PLAIN.length - 1));
  }
  return out;
}

export function randomDecimal2(prng: Prng): string {
  const cents = prng.int(-9_999_999, 99_999_999);
  const abs = Math.abs(cents);
  return `${cents < 0 ? '-' : ''}${Math.floor(abs / 100)}.${String(abs % 100).padStart(2, '0')}`;
}

function pad(value: number, width: number): string {
  return String(value).padStart(width, '0');
}

export function randomDate(prng: Prng): string {
  const at = new Date(Date.UTC(2020, 0, 1) + prng.int(0, 2500) * 86_400_000);
  return `${pad(at.getUTCFullYear(), 4)}-${pad(at.getUTCMonth() + 1, 2)}-${pad(at.getUTCDate(), 2)}`;
}

export function randomTimestamp(prng: Prng): string {
  const at = new Date(Date.UTC(2020, 0, 1) + prng.int(0, 2_000_000_000) * 100);
  const date = `${pad(at.getUTCFullYear(), 4)}-${pad(at.getUTCMonth() + 1, 2)}-${pad(at.getUTCDate(), 2)}`;
  const time = `${pad(at.getUTCHours(), 2)}:${pad(at.getUTCMinutes(), 2)}:${pad(at.getUTCSeconds(), 2)}`;
  return `${date} ${time}.${pad(prng.int(0, 999_999), 6)}`;
}

/** The collation-ordered text cursor for counter value `n`. */
export function textCursor(prng: Prng, n: number): string {
  let out = '';
  for (const ch of n.toString(36).padStart(8, '0')) {
    out += ch >= 'a' && ch <= 'z' && prng.chance(0.5) ? ch.toUpperCase() : ch;
  }
  return out;
}
