/**
 * `etlctl validate --json`: the protocol's lines, plus each problem and warning taken apart into
 * file, line, column, field and message, so scripts need not parse the lines (schema 1 keeps the
 * lines as they were; the details are added keys).
 */
import { z } from 'zod';
import { parseProblemText } from '../../shared/config/yaml-document.js';

const locatedProblemSchema = z
  .object({
    text: z.string().describe('The line as printed without --json'),
    file: z.string().describe('The file, empty when the problem has no location'),
    line: z.number().int().describe('1-based line (0: no location)'),
    column: z.number().int().describe('1-based column (0: no location)'),
    field: z.string().describe('The dotted field path (`source.shards[1].port`), empty for the whole file'),
    message: z.string().describe('What is wrong, without the location'),
  })
  .describe('One problem, located');

/** `etlctl validate --json`: the protocol's lists, plus each problem and warning taken apart. */
export const validationJsonSchema = z.object({
  valid: z.array(z.string()).describe('What loaded: `name (file)` per pipeline, or the settings file'),
  problems: z.array(z.string()).describe('One line per problem: `file:line:column field: message`'),
  warnings: z.array(z.string()).describe('One line per warning, as problems'),
  problem_details: z.array(locatedProblemSchema).describe('The problems, each taken apart'),
  warning_details: z.array(locatedProblemSchema).describe('The warnings, each taken apart'),
});

export function located(text: string): z.output<typeof locatedProblemSchema> {
  const { file, line, column, path, message } = parseProblemText(text);
  return { text, file, line, column, field: path, message };
}
