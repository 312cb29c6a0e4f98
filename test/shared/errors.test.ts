/** The error contract: codes decide retryability by default, and stored codes come back typed. */
import { describe, expect, it } from 'vitest';
import { ERROR_CODES, EtlError, isRetryableCode, storedErrorCode, toEtlError } from '../../shared/errors.js';

describe('EtlError', () => {
  it('takes its retryability from the code unless told otherwise', () => {
    expect(new EtlError('SOURCE_CONNECTION', 'refused').retryable).toBe(true);
    expect(new EtlError('SCHEMA_MISMATCH', 'changed').retryable).toBe(false);
    expect(new EtlError('SOURCE_CONNECTION', 'bad password', { retryable: false }).retryable).toBe(false);
    expect(ERROR_CODES.filter(isRetryableCode)).toContain('STAGING');
  });

  it('wraps anything thrown, keeping an existing code', () => {
    const original = new EtlError('NOT_FOUND', 'no such pipeline');
    expect(toEtlError(original)).toBe(original);
    expect(toEtlError(new Error('boom'))).toMatchObject({ code: 'INTERNAL', message: 'boom' });
  });

  it('reads stored codes back typed: known as they are, anything else as INTERNAL, NULL as null', () => {
    for (const code of ERROR_CODES) expect(storedErrorCode(code)).toBe(code);
    expect(storedErrorCode('NO_SUCH_CODE')).toBe('INTERNAL');
    expect(storedErrorCode(42)).toBe('INTERNAL');
    expect(storedErrorCode(null)).toBeNull();
    expect(storedErrorCode(undefined)).toBeNull();
  });
});
