/**
 * The `storage:` block of a destination kept in an object store (S3 and S3-compatible stores,
 * Google Cloud Storage, Azure Blob / ADLS Gen2). Everything is optional: without it each cloud's
 * standard credential chain applies (docs/storage.md). Secrets come only from `*_env` (an
 * environment variable of the daemon) or `*_file` (a file; relative paths under
 * $CREDENTIALS_DIRECTORY), like connection passwords.
 */
import { z } from 'zod';
import { sizeSchema } from './common-schema.js';

const envName = z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'expected an environment variable name');
const fileName = z.string().min(1);
const MIB = 1024 * 1024;

/** The secrets of the block: `<name>_env` / `<name>_file` pairs, and what each one is. */
const SECRETS = {
  access_key_id: 'S3 access key id',
  secret_access_key: 'S3 secret access key',
  session_token: 'S3 session token (temporary credentials)',
  azure_account_key: 'Azure storage account key',
  azure_sas_token: 'Azure shared access signature (SAS) token',
  azure_connection_string: 'Azure storage connection string',
} as const;

type SecretName = keyof typeof SECRETS;

function secretFields<N extends SecretName>(name: N, what: string) {
  return {
    [`${name}_env`]: envName
      .optional()
      .describe(`Name of the environment variable holding the ${what} (the daemon's environment)`),
    [`${name}_file`]: fileName
      .optional()
      .describe(`File holding the ${what}; a relative path resolves under $CREDENTIALS_DIRECTORY`),
    [name]: z.unknown().optional().describe(`Refused: use ${name}_env or ${name}_file`),
  } as Record<`${N}_env`, z.ZodOptional<z.ZodString>> &
    Record<`${N}_file`, z.ZodOptional<z.ZodString>> &
    Record<N, z.ZodOptional<z.ZodUnknown>>;
}

export const storageSchema = z
  .strictObject({
    endpoint: z
      .url({ protocol: /^https?$/, error: 'expected an http:// or https:// URL' })
      .optional()
      .describe(
        "Service endpoint for S3-compatible stores and emulators (S3 endpoint, GCS JSON API root, Azure blob service URL); default: the cloud's own",
      ),
    region: z.string().min(1).optional().describe('S3 region (default: AWS_REGION or the AWS config file)'),
    force_path_style: z
      .boolean()
      .optional()
      .describe(
        'S3: address buckets as endpoint/bucket instead of bucket.endpoint (most S3-compatible servers)',
      ),
    account: z
      .string()
      .regex(/^[a-z0-9]{3,24}$/, 'expected a storage account name (3-24 lower-case letters and digits)')
      .optional()
      .describe('Azure storage account, for az:// URLs (abfss:// and wasbs:// URLs name it in the host)'),
    ...secretFields('access_key_id', SECRETS.access_key_id),
    ...secretFields('secret_access_key', SECRETS.secret_access_key),
    ...secretFields('session_token', SECRETS.session_token),
    ...secretFields('azure_account_key', SECRETS.azure_account_key),
    ...secretFields('azure_sas_token', SECRETS.azure_sas_token),
    ...secretFields('azure_connection_string', SECRETS.azure_connection_string),
    gcs_credentials_file: fileName
      .optional()
      .describe(
        'GCS service account key (JSON); a relative path resolves under $CREDENTIALS_DIRECTORY (default: Application Default Credentials)',
      ),
    gcs_project: z.string().min(1).optional().describe("GCS project id (default: the credentials' project)"),
    single_writer: z
      .boolean()
      .default(false)
      .describe(
        'Accept a store that ignores conditional writes (If-None-Match): only when no other writer ever commits to this table',
      ),
    upload_part_size: sizeSchema
      .refine((bytes) => bytes >= 5 * MIB && bytes <= 512 * MIB, { error: 'expected 5MB to 512MB' })
      .optional()
      .describe('Part (block) size of multipart uploads, 5MB to 512MB (default 8MB)'),
  })
  .superRefine((value, ctx) => {
    for (const name of Object.keys(SECRETS) as SecretName[]) {
      if (value[name] !== undefined)
        ctx.addIssue({
          code: 'custom',
          path: [name],
          message: `secrets are never written in pipeline files: use ${name}_env (an environment variable) or ${name}_file`,
        });
      if (value[`${name}_env`] !== undefined && value[`${name}_file`] !== undefined)
        ctx.addIssue({
          code: 'custom',
          path: [`${name}_file`],
          message: `give either ${name}_env or ${name}_file, not both`,
        });
    }
    const has = (name: SecretName): boolean =>
      value[`${name}_env`] !== undefined || value[`${name}_file`] !== undefined;
    if (has('access_key_id') !== has('secret_access_key'))
      ctx.addIssue({
        code: 'custom',
        path: [has('access_key_id') ? 'secret_access_key_env' : 'access_key_id_env'],
        message: 'give both the access key id and the secret access key, or neither',
      });
    if (has('session_token') && !has('access_key_id'))
      ctx.addIssue({
        code: 'custom',
        path: ['session_token_env'],
        message: 'a session token goes with an access key id and a secret access key',
      });
    const azure = (['azure_account_key', 'azure_sas_token', 'azure_connection_string'] as const).filter(has);
    if (azure.length > 1)
      ctx.addIssue({
        code: 'custom',
        path: [`${azure[1]}_env`],
        message: `give one Azure credential, not ${azure.join(' and ')}`,
      });
  })
  .describe("Object-store settings: endpoint, region and credentials (default: each cloud's standard chain)");

export type StorageConfig = z.output<typeof storageSchema>;
