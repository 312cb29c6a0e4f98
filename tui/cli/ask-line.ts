/**
 * One question on a terminal, for the verbs that confirm before they change something an operator
 * cannot take back (`files forget`). main.ts passes the process's stdin and stderr (the question
 * goes to stderr so that stdout stays the verb's output).
 *
 * Decisions: Ctrl-C or Ctrl-D at the question is "no" (null), never an exit in the middle of a
 * half-typed answer; the caller decides what no means.
 */
import { createInterface } from 'node:readline';
import type { Readable, Writable } from 'node:stream';

export function askLine(input: Readable, output: Writable, question: string): Promise<string | null> {
  const reader = createInterface({ input, output, terminal: true });
  return new Promise((resolve) => {
    // Resolving twice is harmless: the first answer (a line, or null) is the one kept.
    reader.once('close', () => resolve(null));
    reader.once('SIGINT', () => reader.close());
    reader.question(question, (answer) => {
      resolve(answer);
      reader.close();
    });
  });
}
