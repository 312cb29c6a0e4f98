import { describe, expect, it } from 'vitest';
import { pipelineSchema } from '../../shared/config/pipeline-schema.js';
import { storageSchema } from '../../shared/config/storage-schema.js';

function issues(input: unknown): string[] {
  const result = storageSchema.safeParse(input);
  return result.success ? [] : result.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
}

describe('storage block schema', () => {
  it('accepts an empty block (the standard credential chain) with single_writer false', () => {
    expect(storageSchema.parse({})).toEqual({ single_writer: false });
  });

  it('accepts a full S3-compatible block and parses the part size', () => {
    expect(
      storageSchema.parse({
        endpoint: 'http://127.0.0.1:9000',
        region: 'eu-west-1',
        force_path_style: true,
        access_key_id_env: 'S3_KEY',
        secret_access_key_file: 's3-secret',
        session_token_env: 'S3_TOKEN',
        single_writer: true,
        upload_part_size: '16MB',
      }),
    ).toMatchObject({ upload_part_size: 16 * 1024 * 1024, single_writer: true });
  });

  it('refuses literal secrets, naming the _env / _file alternative', () => {
    expect(issues({ secret_access_key: 'abc', access_key_id_env: 'K' })).toContain(
      'secret_access_key: secrets are never written in pipeline files: use secret_access_key_env (an environment variable) or secret_access_key_file',
    );
    expect(issues({ azure_account_key: 'abc' })[0]).toMatch(/azure_account_key_env/);
  });

  it.each([
    [{ access_key_id_env: 'A' }, /both the access key id and the secret access key/],
    [
      { access_key_id_env: 'A', access_key_id_file: 'f', secret_access_key_env: 'B' },
      /either access_key_id_env or access_key_id_file/,
    ],
    [{ session_token_env: 'T' }, /session token goes with/],
    [{ azure_account_key_env: 'K', azure_sas_token_env: 'S' }, /one Azure credential/],
    [{ endpoint: 'ftp://x' }, /http:\/\/ or https:\/\//],
    [{ account: 'Not_Valid' }, /storage account name/],
    [{ upload_part_size: '1MB' }, /5MB to 512MB/],
    [{ access_key_id_env: 'not a name', secret_access_key_env: 'B' }, /environment variable name/],
    [{ bucket: 'x' }, /Unrecognized key|unrecognized/i],
  ])('refuses %j', (input, why) => {
    expect(issues(input).join('\n')).toMatch(why);
  });

  it('is the storage block of a Delta destination', () => {
    const base = {
      name: 'orders',
      source: { type: 'postgres', connection: { host: 'db' }, table: 'orders', key: ['id'] },
      load: { mode: 'full' },
      destination: { type: 'delta', path: 's3://bucket-1/orders', storage: { region: 'eu-west-1' } },
    };
    const parsed = pipelineSchema.safeParse(base);
    expect(parsed.success, JSON.stringify(parsed.error?.issues)).toBe(true);
  });
});
