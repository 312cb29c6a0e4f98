/**
 * Meaning → colour: green succeeded, red failed, yellow retrying/waiting, cyan running,
 * grey paused. Every coloured value also carries its meaning as text, so `NO_COLOR` loses nothing.
 */
import type { CheckResult, LogLine } from '../../../shared/protocol.js';
import type { PipelineState, RunStatus } from '../../../shared/types.js';

export type ColorName = 'green' | 'red' | 'yellow' | 'cyan' | 'gray' | 'magenta' | 'blue';

export function pipelineStateColor(state: PipelineState | 'paused'): ColorName | undefined {
  switch (state) {
    case 'running':
      return 'cyan';
    case 'retrying':
    case 'waiting':
      return 'yellow';
    case 'failed':
      return 'red';
    case 'invalid':
      return 'magenta';
    case 'paused':
      return 'gray';
    case 'idle':
      return undefined;
  }
}

export function runStatusColor(status: RunStatus): ColorName | undefined {
  switch (status) {
    case 'succeeded':
      return 'green';
    case 'failed':
      return 'red';
    case 'retrying':
    case 'queued':
      return 'yellow';
    case 'running':
      return 'cyan';
    case 'cancelled':
    case 'interrupted':
      return 'gray';
  }
}

export function checkStatusColor(status: CheckResult['status']): ColorName {
  switch (status) {
    case 'pass':
      return 'green';
    case 'fail':
      return 'red';
    // Both committed the run: something to look at, nothing lost.
    case 'warn':
    case 'quarantine':
      return 'yellow';
  }
}

export function logLevelColor(level: LogLine['level']): ColorName | undefined {
  switch (level) {
    case 'error':
      return 'red';
    case 'warning':
      return 'yellow';
    case 'notice':
      return 'cyan';
    case 'info':
      return undefined;
    case 'debug':
      return 'gray';
  }
}

/** Short result words for narrow cells. */
export function runStatusWord(status: RunStatus): string {
  switch (status) {
    case 'succeeded':
      return 'ok';
    case 'failed':
      return 'failed';
    case 'cancelled':
      return 'cancelled';
    case 'interrupted':
      return 'interrupted';
    case 'retrying':
      return 'retrying';
    case 'running':
      return 'running';
    case 'queued':
      return 'queued';
  }
}
