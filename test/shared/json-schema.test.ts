import { readFileSync } from 'node:fs';
import { expect, test } from 'vitest';
import { connectionsJsonSchema, pipelineJsonSchema } from '../../shared/config/json-schema.js';

test('the shipped JSON Schema is generated from the pipeline schema and up to date (npm run schema)', () => {
  const shipped: unknown = JSON.parse(
    readFileSync(new URL('../../schema/pipeline.schema.json', import.meta.url), 'utf8'),
  );
  expect(shipped).toEqual(pipelineJsonSchema());
  const connections: unknown = JSON.parse(
    readFileSync(new URL('../../schema/connections.schema.json', import.meta.url), 'utf8'),
  );
  expect(connections).toEqual(connectionsJsonSchema());
});

test('a connection field takes a block or the name of one in connections.yaml; a shard only a block', () => {
  const schema = pipelineJsonSchema() as {
    properties: { source: { properties: Record<string, { anyOf?: unknown[]; items?: unknown }> } };
  };
  const connection = schema.properties.source.properties.connection;
  expect(connection?.anyOf).toEqual([
    expect.objectContaining({ type: 'string' }),
    expect.objectContaining({
      type: 'object',
      properties: expect.objectContaining({ host: expect.anything() }),
    }),
  ]);
  expect(JSON.stringify(schema.properties.source.properties.shards)).not.toContain('connections.yaml');
  const file = connectionsJsonSchema() as { additionalProperties: { properties: Record<string, unknown> } };
  expect(Object.keys(file.additionalProperties.properties)).toEqual(
    expect.arrayContaining(['host', 'port', 'password_env', 'password_file']),
  );
});

test('the JSON Schema describes the fields editors complete', () => {
  const schema = pipelineJsonSchema() as {
    properties: Record<string, { properties?: Record<string, { enum?: string[] }> }>;
    required: string[];
  };
  expect(schema.required).toEqual(expect.arrayContaining(['name', 'source', 'load', 'destination']));
  expect(schema.properties.source?.properties?.type?.enum).toEqual([
    'postgres',
    'mysql',
    'sqlserver',
    'files',
  ]);
  expect(schema.properties.load?.properties?.mode?.enum).toEqual(['full', 'incremental', 'merge']);
});
