/**
 * The messages hosts of a fleet send each other on the state store's `etld_control` NOTIFY channel
 * (fleet-control.ts): a request that the host running a pipeline act on it (only `stop` today),
 * and the acknowledgement the target sends back with what its supervisor did. Every host LISTENs
 * on the one channel, so each message names the host it is for; anything that does not parse, or
 * is for another host, is dropped: a NOTIFY payload is whatever any session of the database sent.
 */
import { z } from 'zod';
import { ERROR_CODES } from '../../shared/errors.js';

export const CONTROL_CHANNEL = 'etld_control';

const hostName = z.string().min(1).max(200);

const stopRequestSchema = z.strictObject({
  to: hostName,
  /** The sending host: the acknowledgement goes back to it. */
  from: hostName,
  action: z.literal('stop'),
  pipeline: z.string().min(1).max(200),
  /** The operator, as the sending host's control socket knows them (describeCaller). */
  requestedBy: z.string().min(1).max(500),
  requestId: z.uuid(),
});

const stopAckSchema = z.strictObject({
  to: hostName,
  ack: z.uuid(),
  outcome: z.union([
    z.strictObject({ run_id: z.string().nullable(), stopped: z.boolean() }),
    z.strictObject({ error: z.strictObject({ code: z.enum(ERROR_CODES), message: z.string() }) }),
  ]),
});

const controlMessageSchema = z.union([stopRequestSchema, stopAckSchema]);

export type StopRequest = z.infer<typeof stopRequestSchema>;
export type StopAck = z.infer<typeof stopAckSchema>;
export type ControlMessage = z.infer<typeof controlMessageSchema>;

/** The message in `payload` if it is well formed and addressed to `host`; null for anything else. */
export function controlMessageFor(payload: string | undefined, host: string): ControlMessage | null {
  if (payload === undefined) return null;
  let json: unknown;
  try {
    json = JSON.parse(payload);
  } catch {
    return null;
  }
  const parsed = controlMessageSchema.safeParse(json);
  if (!parsed.success || parsed.data.to !== host) return null;
  return parsed.data;
}

export function isStopRequest(message: ControlMessage): message is StopRequest {
  return 'action' in message;
}
