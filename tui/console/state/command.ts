/** Requests for the daemon (or the app) that the reducer queues and an effect carries out. */
import type { PipelineStatus } from '../../../shared/protocol.js';

export type Command =
  | { readonly kind: 'start'; readonly pipeline: string; readonly retry: boolean }
  | { readonly kind: 'stop'; readonly pipeline: string }
  /** `start --full-refresh`: read everything again and replace the destination's content. */
  | { readonly kind: 'fullRefresh'; readonly pipeline: string }
  /** Read the cursor range [from, to) again (etlctl backfill). */
  | { readonly kind: 'backfill'; readonly pipeline: string; readonly from: string; readonly to: string }
  | { readonly kind: 'pause'; readonly pipeline: string }
  | { readonly kind: 'resume'; readonly pipeline: string }
  | { readonly kind: 'quit' };

export interface QueuedCommand {
  readonly id: number;
  readonly command: Command;
}

/** What a command does, in the words of notices: `stop`, `full refresh`, `backfill`… */
export function commandWords(command: Command): string {
  switch (command.kind) {
    case 'fullRefresh':
      return 'full refresh';
    case 'start':
      return command.retry ? 'retry' : 'start';
    default:
      return command.kind;
  }
}

/** The cursor column a pipeline's status names (`load.cursor` of its configuration), if any. */
export function cursorOf(status: PipelineStatus | null): string | null {
  const load = status?.config?.load;
  if (typeof load !== 'object' || load === null) return null;
  const cursor = (load as Record<string, unknown>).cursor;
  return typeof cursor === 'string' ? cursor : null;
}
