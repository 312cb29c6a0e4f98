/** `npm run docs`: writes the generated reference pages (tools/docs/generated-docs.ts). */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { renderGeneratedDocs } from './generated-docs.js';

const root = process.cwd();
for (const [file, text] of await renderGeneratedDocs(root)) {
  await writeFile(join(root, file), text);
  process.stdout.write(`wrote ${file}\n`);
}
