import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodeClientFrame } from '../../daemon/control/frame-decoder.js';

describe('decodeClientFrame', () => {
  it('never throws and always yields a frame or a PROTOCOL_INVALID error, whatever arrives', () => {
    const inputs = fc.oneof(
      fc.string({ unit: 'binary', maxLength: 300 }),
      fc.json({ maxDepth: 4 }),
      fc
        .jsonValue({ maxDepth: 3 })
        .map((v) => JSON.stringify({ type: 'request', id: v, method: v, params: v })),
      fc
        .record({
          type: fc.constantFrom('hello', 'request', 'reply', 'x'),
          id: fc.anything(),
          method: fc.anything(),
          version: fc.anything(),
        })
        .map((v) => {
          try {
            return JSON.stringify(v) ?? '';
          } catch {
            return '';
          }
        }),
    );
    fc.assert(
      fc.property(inputs, fc.boolean(), (text, asBuffer) => {
        const decoded = decodeClientFrame(asBuffer ? Buffer.from(text) : text, false);
        if (decoded.ok) {
          expect(['hello', 'request']).toContain(decoded.frame.type);
        } else {
          expect(decoded.error.code).toBe('PROTOCOL_INVALID');
          expect(decoded.error.message.length).toBeLessThan(400);
          expect(
            decoded.id === null || typeof decoded.id === 'string' || typeof decoded.id === 'number',
          ).toBe(true);
        }
      }),
      { numRuns: 1500 },
    );
  });

  it('refuses every binary frame', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), (bytes) => {
        const decoded = decodeClientFrame(Buffer.from(bytes), true);
        expect(decoded.ok).toBe(false);
      }),
    );
  });

  it('decodes valid frames and keeps the id of an invalid request for the reply', () => {
    expect(decodeClientFrame('{"type":"hello","version":1}', false)).toEqual({
      ok: true,
      frame: { type: 'hello', version: 1 },
    });
    const ok = decodeClientFrame('{"type":"request","id":"a","method":"list"}', false);
    expect(ok.ok && ok.frame).toEqual({ type: 'request', id: 'a', method: 'list' });
    const bad = decodeClientFrame('{"type":"request","id":7,"method":""}', false);
    expect(bad).toMatchObject({ ok: false, id: 7 });
    const deep = decodeClientFrame('['.repeat(100_000), false);
    expect(deep).toMatchObject({ ok: false, id: null });
    expect(decodeClientFrame('{"type":"request","id":{"x":1},"method":"list"}', false)).toMatchObject({
      ok: false,
      id: null,
    });
  });
});
