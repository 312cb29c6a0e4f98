import { describe, expect, test } from 'vitest';
import { parseCommandLine } from '../../tui/cli/args.js';

function usageError(argv: string[]): string {
  try {
    parseCommandLine(argv);
  } catch (error) {
    return (error as Error).message;
  }
  throw new Error(`${argv.join(' ')} parsed`);
}

describe('etlctl command line', () => {
  test('an unknown verb close to a known one gets a did-you-mean', () => {
    expect(usageError(['stauts', 'orders'])).toBe(
      'unknown verb "stauts": did you mean "status"? (etlctl status --help)',
    );
    expect(usageError(['--json', 'relaod'])).toBe(
      'unknown verb "relaod": did you mean "reload"? (etlctl reload --help)',
    );
  });

  test('an unknown verb close to none lists the verbs', () => {
    expect(usageError(['frobnicate'])).toMatch(/^unknown verb "frobnicate" \(verbs: list, status, info, /);
  });
});
