/**
 * Carries out one action the operator confirmed (start, stop, pause, resume, full refresh,
 * backfill) and says how it went on the status line. A refusal of the read-only role is said as
 * such, with the daemon's reason; a refused backfill is said in its form, which stays open.
 */
import type { DaemonClient } from '../../../shared/client/client.js';
import { isEtlError } from '../../../shared/errors.js';
import { commandWords, type Command } from '../state/command.js';
import type { ViewAction } from '../state/view-state.js';
import { describeError } from '../format/text.js';

type Action = Exclude<Command, { readonly kind: 'quit' }>;

/** Why an action failed; a refusal of the read-only role says so first, with the daemon's reason. */
function describeRefusal(what: string, error: unknown): string {
  if (isEtlError(error) && error.code === 'READ_ONLY') return `[read-only] ${what} refused: ${error.message}`;
  return `${what} failed: ${describeError(error)}`;
}

export function sendCommand(
  current: DaemonClient | null,
  command: Action,
  dispatch: (action: ViewAction) => void,
  refresh: (pipeline: string) => void,
): void {
  if (current === null || current.state !== 'connected') {
    dispatch({
      type: 'notice',
      notice: {
        text: `not connected: ${commandWords(command)} ${command.pipeline} was not sent`,
        tone: 'error',
      },
    });
    return;
  }
  const done = (text: string): void => {
    dispatch({ type: 'notice', notice: { text, tone: 'info' } });
    refresh(command.pipeline);
  };
  const failed = (error: unknown): void => {
    dispatch({
      type: 'notice',
      notice: { text: describeRefusal(`${commandWords(command)} ${command.pipeline}`, error), tone: 'error' },
    });
  };
  const pipeline = command.pipeline;
  switch (command.kind) {
    case 'start':
      current
        .call('start', { pipeline })
        .then((r) => done(`${command.retry ? 'retrying' : 'started'} ${pipeline}: run ${r.run_id}`), failed);
      return;
    case 'stop':
      current
        .call('stop', { pipeline })
        .then(
          (r) =>
            done(
              (r.stopped
                ? `stopping ${pipeline}: run ${r.run_id ?? '?'}`
                : `${pipeline} had no run to stop`) +
                (r.forwarded_to === undefined ? '' : ` (on host ${r.forwarded_to})`),
            ),
          failed,
        );
      return;
    case 'pause':
      current.call('pause', { pipeline }).then(() => done(`paused ${pipeline}`), failed);
      return;
    case 'resume':
      current.call('resume', { pipeline }).then(() => done(`resumed ${pipeline}`), failed);
      return;
    case 'fullRefresh':
      current
        .call('start', { pipeline, full_refresh: true })
        .then((r) => done(`started full refresh of ${pipeline}: run ${r.run_id}`), failed);
      return;
    case 'backfill':
      current
        // The daemon asks the source to check the values first.
        .call('backfill', { pipeline, from: command.from, to: command.to }, { timeoutMs: 120_000 })
        .then(
          (r) => {
            dispatch({ type: 'backfillClose' });
            done(`started backfill of ${pipeline}: run ${r.run_id}, [${r.from}, ${r.to})`);
          },
          (error: unknown) =>
            dispatch({
              type: 'backfillFailed',
              pipeline,
              error: describeRefusal(`backfill ${pipeline}`, error),
            }),
        );
      return;
  }
}
