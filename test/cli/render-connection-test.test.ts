import { describe, expect, it } from 'vitest';
import type { ConnectionTest } from '../../shared/protocol.js';
import { createStyle } from '../../tui/cli/format.js';
import { renderConnectionTest } from '../../tui/cli/test-command.js';

const RESULT: ConnectionTest = {
  pipeline: 'orders',
  ok: false,
  source: 'postgres public.orders',
  destination: 'postgres db:5432/dw dw.orders',
  mode: 'merge',
  checks: [
    {
      target: 'source',
      shard: 's1',
      check: 'connect',
      status: 'ok',
      detail: 'connected',
      code: null,
      duration_ms: 4,
    },
    {
      target: 'source',
      shard: 's1',
      check: 'key_columns',
      status: 'skipped',
      detail: 'no key',
      code: null,
      duration_ms: 0,
    },
    {
      target: 'destination',
      check: 'write_permission',
      status: 'warning',
      detail: 'not the owner',
      code: 'DESTINATION_PERMISSION',
      duration_ms: 2,
    },
    {
      target: 'destination',
      check: 'schema',
      status: 'failed',
      detail: 'column note is integer, not text',
      code: 'SCHEMA_MISMATCH',
      duration_ms: 3,
    },
  ],
};

describe('renderConnectionTest', () => {
  it('without colour (NO_COLOR, --no-color, a pipe): words that stand out, aligned columns, the tally', () => {
    expect(renderConnectionTest(RESULT, createStyle(false)).split('\n')).toEqual([
      'orders: postgres public.orders → postgres db:5432/dw dw.orders (merge); nothing is read or written',
      'ok   source/s1    connect           connected',
      'skip source/s1    key_columns       no key',
      'warn destination  write_permission  not the owner',
      'FAIL destination  schema            column note is integer, not text',
      'orders cannot run as configured: 1 ok, 1 warning, 1 skipped, 1 failed',
    ]);
  });

  it('with colour: FAIL red, warn yellow, ok green, and the verdict coloured by the outcome', () => {
    const text = renderConnectionTest(RESULT, createStyle(true));
    expect(text).toContain('\u001B[31mFAIL\u001B[39m destination');
    expect(text).toContain('\u001B[33mwarn\u001B[39m destination');
    expect(text).toContain('\u001B[32mok\u001B[39m   source/s1');
    expect(text).toContain('\u001B[31morders cannot run as configured');
  });
});
