/**
 * `parseProblemText` reads back what `formatProblem` wrote (validate --json's problem details):
 * every located problem round-trips, whatever its message holds (colons, newlines, quotes).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { formatProblem, parseProblemText } from '../../shared/config/yaml-document.js';

describe('problem lines taken apart', () => {
  it('round-trips every located problem', () => {
    const segment = fc.stringMatching(/^[A-Za-z0-9_.\- ]{1,12}$/);
    const problem = fc.record({
      file: fc.array(segment, { minLength: 1, maxLength: 4 }).map((parts) => `/${parts.join('/')}.yaml`),
      line: fc.integer({ min: 1, max: 100_000 }),
      column: fc.integer({ min: 1, max: 500 }),
      path: fc.oneof(fc.constant(''), fc.stringMatching(/^[a-z_]{1,10}(\.[a-z_]{1,10}|\[\d{1,3}\]){0,4}$/)),
      // A message alone never starts with a bare field-like word followed by ": ".
      message: fc.string({ minLength: 1 }).map((m) => `got ${m}`),
    });
    fc.assert(
      fc.property(problem, (p) => {
        const text = formatProblem(p);
        expect(parseProblemText(text)).toEqual({ ...p, text });
      }),
      { seed: 20261201, numRuns: 500 },
    );
  });

  it('keeps a line without a location as its message', () => {
    expect(parseProblemText('no pipeline named orders')).toEqual({
      text: 'no pipeline named orders',
      file: '',
      line: 0,
      column: 0,
      path: '',
      message: 'no pipeline named orders',
    });
  });
});
