/**
 * NDJSON files through describeFile + extractFile: strings with quotes and newlines, null kept
 * apart from "", keys missing from some objects, nested values as JSON text, compression.
 */
import { gzipSync, zstdCompressSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { describeFile } from '../../../daemon/sources/files/file-schema.js';
import { fileSpec, openWorkspace, stageBack, type Workspace } from './file-reader-fixtures.js';

const meta = (name: string): string => `in/${name},2026-12-01 10:04:05.25+00`;

describe('NDJSON files', () => {
  let ws: Workspace;
  beforeAll(async () => {
    ws = await openWorkspace();
  });
  afterAll(() => ws?.close());

  test('strings, null and "", missing keys, numbers and nested values', async () => {
    const path = ws.write(
      'rows.ndjson',
      [
        '{"id": 1, "name": "say \\"hi\\"\\nbye", "price": 9.99, "tags": ["a", "b"], "meta": {"k": [1, null]}, "at": "2024-01-02 03:04:05.5", "ok": true}',
        '{"id": 2, "name": "", "price": null, "tags": [], "meta": null, "at": null, "ok": false}',
        '{"id": 3, "price": -0.5, "tags": null}',
        '{"id": 4, "name": "ünï €", "price": 1e21, "meta": {"k": []}}',
      ].join('\n') + '\n',
    );
    const spec = fileSpec({ format: 'ndjson' });
    const columns = await describeFile(ws.connection, path, spec, 'in/rows.ndjson');
    const out = await ws.extract(path, spec, columns);
    expect(out.text).toBe(
      `1,"say ""hi""\nbye",9.99,"[""a"",""b""]","{""k"":[1,null]}",2024-01-02 03:04:05.5,t,${meta('rows.ndjson')}\n` +
        `2,"",,[],,,f,${meta('rows.ndjson')}\n` +
        `3,,-0.5,,,,,${meta('rows.ndjson')}\n` +
        `4,ünï €,1e+21,,"{""k"":[]}",,,${meta('rows.ndjson')}\n`,
    );
    expect(out.rows).toBe(4);
    const staged = await stageBack(ws.connection, out.outputPath, columns);
    expect(staged.map((row) => row[1])).toEqual(['say "hi"\nbye', '', null, 'ünï €']);
    expect(staged.map((row) => row[3])).toEqual(['["a","b"]', '[]', null, null]);
  });

  test('gzip and zstd compressed files', async () => {
    const content = '{"id": 1}\n{"id": 2}\n';
    for (const [name, compression, bytes] of [
      ['rows.ndjson.gz', 'gzip', gzipSync(content)],
      ['rows.ndjson.zst', 'zstd', zstdCompressSync(Buffer.from(content))],
    ] as const) {
      const path = ws.write(name, bytes);
      const spec = fileSpec({ format: 'ndjson', compression });
      const columns = await describeFile(ws.connection, path, spec, `in/${name}`);
      expect((await ws.extract(path, spec, columns)).text).toBe(`1,${meta(name)}\n2,${meta(name)}\n`);
    }
  });

  test('a key beyond the sample still loads when the batch has its column', async () => {
    const path = ws.write('late.ndjson', '{"id": 1}\n{"id": 2, "late": "x"}\n');
    const spec = fileSpec({ format: 'ndjson', sampleRows: 1 });
    const columns = await describeFile(ws.connection, path, spec, 'in/late.ndjson');
    expect(columns.map((c) => c.name)).toEqual(['id']);
    const batch = [...columns, { name: 'late', type: { kind: 'text' as const }, nullable: true }];
    expect((await ws.extract(path, spec, batch)).text).toBe(
      `1,,${meta('late.ndjson')}\n2,x,${meta('late.ndjson')}\n`,
    );
  });
});
