import { describe, expect, it } from 'vitest';
import { parseStorageUrl } from '../../daemon/storage/storage-url.js';

const BASE = '/var/lib/etld/lake';

describe('parseStorageUrl', () => {
  it.each([
    ['s3://bucket-1/tables/orders', { kind: 's3', bucket: 'bucket-1', prefix: 'tables/orders' }],
    ['s3://bucket-1', { kind: 's3', bucket: 'bucket-1', prefix: '' }],
    ['s3://bucket-1/a/b/', { kind: 's3', bucket: 'bucket-1', prefix: 'a/b' }],
    ['s3a://bucket-1/x', { kind: 's3', bucket: 'bucket-1', prefix: 'x' }],
    ['gs://my_bucket.example/x%20y', { kind: 'gcs', bucket: 'my_bucket.example', prefix: 'x y' }],
    [
      'az://container-1/lake/orders',
      { kind: 'azure', container: 'container-1', account: undefined, prefix: 'lake/orders' },
    ],
    [
      'abfss://lake@myaccount.dfs.core.windows.net/orders',
      {
        kind: 'azure',
        container: 'lake',
        account: 'myaccount',
        endpointSuffix: 'core.windows.net',
        prefix: 'orders',
      },
    ],
    [
      'abfs://lake@myaccount.dfs.core.chinacloudapi.cn/o',
      {
        kind: 'azure',
        container: 'lake',
        account: 'myaccount',
        endpointSuffix: 'core.chinacloudapi.cn',
        prefix: 'o',
      },
    ],
    [
      'wasbs://lake@myaccount.blob.core.windows.net/orders',
      { kind: 'azure', container: 'lake', account: 'myaccount', prefix: 'orders' },
    ],
    ['file:///srv/lake/orders', { kind: 'file', root: '/srv/lake/orders' }],
    ['file://localhost/srv/lake', { kind: 'file', root: '/srv/lake' }],
    ['/srv/lake/orders', { kind: 'file', root: '/srv/lake/orders' }],
    ['orders', { kind: 'file', root: '/var/lib/etld/lake/orders' }],
    ['./a/../orders', { kind: 'file', root: '/var/lib/etld/lake/orders' }],
  ])('%s', (url, expected) => {
    expect(parseStorageUrl(url, BASE)).toMatchObject(expected);
  });

  it('gives display URLs without credentials', () => {
    expect(parseStorageUrl('s3://b-1/p', BASE).displayUrl).toBe('s3://b-1/p');
    expect(parseStorageUrl('abfss://c-1@acct.dfs.core.windows.net/p', BASE).displayUrl).toBe(
      'abfss://c-1@acct.dfs.core.windows.net/p',
    );
  });

  it.each([
    ['s3://', /bucket name is missing|not a valid URL/],
    ['s3://Upper_Case/x', /"upper_case"|"Upper_Case"|not a valid bucket name/],
    ['s3://ab/x', /not a valid bucket name/],
    ['s3://bucket-1/a//b', /empty, "\." or "\.\." segment/],
    ['s3://bucket-1/a/../b', /segment/],
    ['gs://bucket-1:9000/x', /no port/],
    ['az://Bad--Name/x', /not a valid container name/],
    ['abfss://lake@Not_An_Account.dfs.core.windows.net/x', /storage account name/],
    ['abfss://myaccount.dfs.core.windows.net/x', /container@account/],
    ['abfss://lake@myaccount.blob.core.windows.net/x', /account\.dfs\.core\.windows\.net/],
    ['ftp://host/x', /unknown scheme ftp:\/\//],
    ['file://otherhost/x', /another host/],
    ['s3://bucket-1/x%zz', /percent escape/],
    ['', /empty/],
  ])('refuses %j', (url, why) => {
    let error: unknown;
    try {
      parseStorageUrl(url, BASE);
    } catch (e) {
      error = e;
    }
    expect(error).toMatchObject({ code: 'CONFIG_INVALID' });
    expect((error as Error).message).toMatch(why);
    expect((error as Error).message).toMatch(/^storage URL /);
  });

  it('refuses credentials and SAS tokens in URLs without repeating them', () => {
    for (const url of [
      's3://AKIDEXAMPLE:s3cr3tValue@bucket-1/x',
      'gs://user:s3cr3tValue@bucket-1/x',
      'az://container-1/x?sv=2024&sig=s3cr3tValue',
      'abfss://lake@myaccount.dfs.core.windows.net/x?sig=s3cr3tValue',
    ]) {
      let message = '';
      try {
        parseStorageUrl(url, BASE);
      } catch (e) {
        message = (e as Error).message;
      }
      expect(message, url).toMatch(/not accepted in the URL/);
      expect(message, url).not.toContain('s3cr3tValue');
    }
  });
});
