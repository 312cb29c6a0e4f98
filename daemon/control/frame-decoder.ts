import { EtlError } from '../../shared/errors.js';
import { clientFrameSchema, type ClientFrame } from '../../shared/protocol.js';

export type RequestId = string | number | null;

export type DecodedFrame =
  | { readonly ok: true; readonly frame: ClientFrame }
  | { readonly ok: false; readonly id: RequestId; readonly error: EtlError };

/**
 * Turns one WebSocket message into a client frame, or into the error to reply with. Pure and
 * total: it never throws, whatever bytes arrive (fuzzed in test/control/frame-decoder.test.ts).
 */
export function decodeClientFrame(data: Buffer | string, isBinary: boolean): DecodedFrame {
  if (isBinary) {
    return fail(null, `binary frames are not accepted (got ${data.length} bytes); send JSON text frames`);
  }
  const text = typeof data === 'string' ? data : data.toString('utf8');
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    return fail(null, `malformed JSON: ${truncate(reason, 120)}`);
  }
  const id = idOf(value);
  const parsed = clientFrameSchema.safeParse(value);
  if (!parsed.success) {
    const first = parsed.error.issues[0];
    const where = first && first.path.length > 0 ? `${first.path.map(String).join('.')}: ` : '';
    return fail(id, `invalid frame: ${where}${truncate(first?.message ?? 'unexpected shape', 200)}`);
  }
  return { ok: true, frame: parsed.data };
}

/** The request id of a frame that failed validation, so its error reply can still be matched. */
function idOf(value: unknown): RequestId {
  if (typeof value !== 'object' || value === null || !('id' in value)) return null;
  const id: unknown = value.id;
  if (typeof id === 'string' && id.length > 0 && id.length <= 100) return id;
  if (typeof id === 'number' && Number.isSafeInteger(id)) return id;
  return null;
}

function fail(id: RequestId, message: string): DecodedFrame {
  return { ok: false, id, error: new EtlError('PROTOCOL_INVALID', message) };
}

export function truncate(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max)}…`;
}
