/**
 * Turns a step's fault choice into what the step runner does: environment for the daemon, another
 * home (disk full), a kill moment, actions at spawn time, and a `finish` that undoes the fault
 * and says whether it fired.
 *
 * "Fired" means the fault demonstrably touched the run: the harness's SIGKILL hit a live process;
 * the process died by a SIGKILL it sent itself (failpoint), or was paused instead (fleet mode: by
 * the harness's SIGSTOP, or its own at the failpoint); the trigger's message, ENOSPC or the
 * destination's refusal appear in the daemon's log; a proxy cut or refused a connection.
 * A fault that cannot be applied (no tmpfs, no state store yet) is `applied: false`.
 */
import type { DaemonRunResult } from './daemon-run.js';
import type { FaultChoice } from './fault-plan.js';
import type { FaultProxy } from '../helpers/fault-proxy.js';
import { mountTmpfs, tmpfsAvailability } from './fault-disk.js';
import { startDestinationOutage } from './fault-destination.js';
import { installStateFault, removeStateFault, STATE_FAULT_MESSAGE } from './fault-state-store.js';
import { installPostgresStateFault, removePostgresStateFault } from './fault-state-store-pg.js';
import type { PipelineHome } from './pipeline-home.js';
import type { StateLocation } from './state-location.js';

export interface FaultContext {
  readonly home: PipelineHome;
  readonly state: StateLocation;
  readonly sourceProxy: FaultProxy;
  readonly destProxy: FaultProxy | null;
  /** Fleet mode: a kill of this step (timed or at a failpoint) pauses the process instead. */
  readonly pauseInsteadOfKill?: boolean;
}

export interface ArmedFault {
  readonly applied: boolean;
  /** Why it was not applied. */
  readonly note: string;
  readonly env: Readonly<Record<string, string>>;
  readonly home: string | null;
  readonly killAfterMs: number | null;
  onSpawn(): void;
  finish(run: DaemonRunResult): Promise<boolean>;
}

const NOTHING: Omit<ArmedFault, 'finish'> = {
  applied: true,
  note: '',
  env: {},
  home: null,
  killAfterMs: null,
  onSpawn: () => undefined,
};

function notApplied(note: string): ArmedFault {
  return { ...NOTHING, applied: false, note, finish: () => Promise.resolve(false) };
}

export async function armFault(choice: FaultChoice | null, context: FaultContext): Promise<ArmedFault> {
  context.sourceProxy.heal();
  context.sourceProxy.resetCounters();
  context.destProxy?.heal();
  context.destProxy?.resetCounters();
  if (choice === null) return { ...NOTHING, finish: () => Promise.resolve(false) };
  switch (choice.kind) {
    case 'kill-random':
      return {
        ...NOTHING,
        killAfterMs: choice.atMs,
        // A paused process (fleet mode) was stopped as surely as a killed one.
        finish: (run) => Promise.resolve(run.killedByHarness || run.wake !== undefined),
      };
    case 'kill-failpoint':
      return {
        ...NOTHING,
        env: {
          ETLD_FAILPOINTS: `${choice.failpoint}=${context.pauseInsteadOfKill === true ? 'pause' : 'kill'}`,
        },
        finish: (run) =>
          Promise.resolve(
            run.wake !== undefined || (run.signal === 'SIGKILL' && !run.killedByHarness && !run.hung),
          ),
      };
    case 'state-store': {
      const state = context.state;
      if (state.kind === 'postgres') {
        if (!(await installPostgresStateFault(state.target, state.database)))
          return notApplied('no state store yet');
        return {
          ...NOTHING,
          finish: async (run) => {
            await removePostgresStateFault(state.target, state.database);
            return run.output.includes(STATE_FAULT_MESSAGE);
          },
        };
      }
      if (!installStateFault(state.file)) return notApplied('no state store yet');
      return {
        ...NOTHING,
        finish: (run) => {
          removeStateFault(state.file);
          return Promise.resolve(run.output.includes(STATE_FAULT_MESSAGE));
        },
      };
    }
    case 'dest-unavailable': {
      const outage = await startDestinationOutage(context.home.destination, context.destProxy, choice.ms);
      return { ...NOTHING, finish: (run) => outage.finish(run.output) };
    }
    case 'source-cut': {
      const proxy = context.sourceProxy;
      const cut = choice.cut;
      if (cut.mode === 'after-bytes') proxy.cutAfterBytes(cut.bytes);
      if (cut.mode === 'cut-all') proxy.cutAllAfterFirst(cut.afterFirstMs);
      return {
        ...NOTHING,
        onSpawn: () => {
          if (cut.mode === 'refuse') proxy.refuseFor(cut.ms);
        },
        finish: () => {
          proxy.heal();
          return Promise.resolve(proxy.counters.cut > 0 || proxy.counters.refused > 0);
        },
      };
    }
    case 'disk-full': {
      const availability = tmpfsAvailability();
      if (!availability.available) return notApplied(availability.reason);
      const tmpfs = mountTmpfs(choice.sizeKb);
      return {
        ...NOTHING,
        home: tmpfs.dir,
        finish: (run) => {
          tmpfs.release();
          return Promise.resolve(/ENOSPC|no space left/i.test(run.output));
        },
      };
    }
  }
}
