/** Requests for the daemon (or the app) that the reducer queues and an effect carries out. */
export type Command =
  | { readonly kind: 'start'; readonly pipeline: string; readonly retry: boolean }
  | { readonly kind: 'stop'; readonly pipeline: string }
  | { readonly kind: 'pause'; readonly pipeline: string }
  | { readonly kind: 'resume'; readonly pipeline: string }
  | { readonly kind: 'quit' };

export interface QueuedCommand {
  readonly id: number;
  readonly command: Command;
}
