import { z } from 'zod';
import { parseDuration, parseSize } from './duration.js';

/** A duration written as text (`5s`, `15m`, `1h30m`), parsed to milliseconds. */
export const durationSchema = z
  .string({ error: 'expected a duration such as 5s, 15m or 1h' })
  .transform((text, ctx) => {
    const ms = parseDuration(text);
    if (ms === undefined) {
      ctx.addIssue({ code: 'custom', message: `expected a duration such as 5s, 15m or 1h, got "${text}"` });
      return z.NEVER;
    }
    return ms;
  });

/** A size written as text (`10MB`), parsed to bytes. */
export const sizeSchema = z.union([z.number().int().nonnegative(), z.string()]).transform((value, ctx) => {
  if (typeof value === 'number') return value;
  const bytes = parseSize(value);
  if (bytes === undefined) {
    ctx.addIssue({ code: 'custom', message: `expected a size such as 10MB or 512KB, got "${value}"` });
    return z.NEVER;
  }
  return bytes;
});

const LITERAL_SECRET_MESSAGE =
  'secrets are never written in pipeline files: use password_env (an environment variable) or password_file (for example a systemd credential under $CREDENTIALS_DIRECTORY)';

/**
 * Database connection settings shared by sources, shards and the PostgreSQL destination.
 * A literal `password` is refused: secrets come from the environment or a file.
 */
export const connectionSchema = z
  .strictObject({
    host: z.string().min(1).optional(),
    port: z.number().int().min(1).max(65535).optional(),
    socket: z.string().min(1).optional().describe('Unix socket directory (PostgreSQL) or path (MySQL)'),
    database: z.string().min(1).optional(),
    user: z.string().min(1).optional(),
    password_env: z
      .string()
      .regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'expected an environment variable name')
      .optional(),
    password_file: z.string().min(1).optional(),
    password: z.unknown().optional().describe('Refused: use password_env or password_file'),
    ssl: z.boolean().optional(),
    instance: z.string().min(1).optional().describe('SQL Server named instance'),
    trust_server_certificate: z.boolean().optional().describe('SQL Server: accept a self-signed certificate'),
    connect_timeout: durationSchema.optional(),
    query_timeout: durationSchema.optional(),
  })
  .superRefine((value, ctx) => {
    if (value.password !== undefined) {
      ctx.addIssue({ code: 'custom', path: ['password'], message: LITERAL_SECRET_MESSAGE });
    }
    if (value.password_env !== undefined && value.password_file !== undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['password_file'],
        message: 'give either password_env or password_file, not both',
      });
    }
  });

export type ConnectionConfig = z.output<typeof connectionSchema>;

export const emailListSchema = z.array(z.email({ error: 'expected an e-mail address' }));
