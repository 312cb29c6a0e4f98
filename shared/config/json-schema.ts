import { z } from 'zod';
import { pipelineSchema } from './pipeline-schema.js';

/**
 * The JSON Schema of a pipeline file, generated from the same zod schema the daemon validates
 * with, so yaml-language-server completes and checks what the daemon accepts.
 */
export function pipelineJsonSchema(): Record<string, unknown> {
  const schema = z.toJSONSchema(pipelineSchema, { io: 'input', unrepresentable: 'any', target: 'draft-7' });
  return {
    ...schema,
    $id: 'https://etld.dev/schema/pipeline.json',
    title: 'etld pipeline',
    description: 'One ETL pipeline of the etld daemon (one file per pipeline).',
  };
}
