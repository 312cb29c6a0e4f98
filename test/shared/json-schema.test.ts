import { readFileSync } from 'node:fs';
import { expect, test } from 'vitest';
import { pipelineJsonSchema } from '../../shared/config/json-schema.js';

test('the shipped JSON Schema is generated from the pipeline schema and up to date (npm run schema)', () => {
  const shipped: unknown = JSON.parse(
    readFileSync(new URL('../../schema/pipeline.schema.json', import.meta.url), 'utf8'),
  );
  expect(shipped).toEqual(pipelineJsonSchema());
});

test('the JSON Schema describes the fields editors complete', () => {
  const schema = pipelineJsonSchema() as {
    properties: Record<string, { properties?: Record<string, { enum?: string[] }> }>;
    required: string[];
  };
  expect(schema.required).toEqual(expect.arrayContaining(['name', 'source', 'load', 'destination']));
  expect(schema.properties.source?.properties?.type?.enum).toEqual(['postgres', 'mysql', 'sqlserver']);
  expect(schema.properties.load?.properties?.mode?.enum).toEqual(['full', 'incremental', 'merge']);
});
