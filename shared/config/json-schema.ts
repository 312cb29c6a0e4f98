import { z } from 'zod';
import { CONNECTION_NAME_RE, connectionsFileSchema } from './connections-file.js';
import { connectionFieldSchema, pipelineSchema } from './pipeline-schema.js';

type Override = NonNullable<Parameters<typeof z.toJSONSchema>[1]>['override'];

/** A connection field accepts a block or the name of a block in connections.yaml. */
const namedConnections: Override = (ctx) => {
  if (ctx.zodSchema !== connectionFieldSchema) return;
  const { description, ...block } = ctx.jsonSchema;
  for (const key of Object.keys(ctx.jsonSchema)) delete ctx.jsonSchema[key];
  Object.assign(ctx.jsonSchema, {
    description,
    anyOf: [
      {
        type: 'string',
        pattern: CONNECTION_NAME_RE.source,
        description: 'The name of a connection in connections.yaml',
      },
      block,
    ],
  });
};

/**
 * The JSON Schema of a pipeline file, generated from the same zod schema the daemon validates
 * with, so yaml-language-server completes and checks what the daemon accepts.
 */
export function pipelineJsonSchema(): Record<string, unknown> {
  const schema = z.toJSONSchema(pipelineSchema, {
    io: 'input',
    unrepresentable: 'any',
    target: 'draft-7',
    override: namedConnections,
  });
  return {
    ...schema,
    $id: 'https://etld.dev/schema/pipeline.json',
    title: 'etld pipeline',
    description: 'One ETL pipeline of the etld daemon (one file per pipeline).',
  };
}

/** The JSON Schema of connections.yaml: connection names mapped to connection blocks. */
export function connectionsJsonSchema(): Record<string, unknown> {
  const schema = z.toJSONSchema(connectionsFileSchema, {
    io: 'input',
    unrepresentable: 'any',
    target: 'draft-7',
  });
  return {
    ...schema,
    $id: 'https://etld.dev/schema/connections.json',
    title: 'etld named connections',
    description:
      'connections.yaml beside the pipelines directory: names that pipeline files use as connection: NAME.',
  };
}
