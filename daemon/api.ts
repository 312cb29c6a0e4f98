/**
 * The daemon as the control socket sees it: one method per protocol method (subscribe and
 * unsubscribe are the server's own). `control/handlers.ts` maps the protocol's handler table onto
 * this interface; the daemon implements it. Methods throw EtlError (NOT_FOUND, ILLEGAL_STATE…).
 */
import type { MethodParams, MethodResult } from '../shared/protocol.js';
import type { EventBus } from './events.js';

export interface DaemonApi {
  readonly events: EventBus;
  list(): Promise<MethodResult<'list'>>;
  status(params: MethodParams<'status'>): Promise<MethodResult<'status'>>;
  info(): Promise<MethodResult<'info'>>;
  start(params: MethodParams<'start'>): Promise<MethodResult<'start'>>;
  stop(params: MethodParams<'stop'>): Promise<MethodResult<'stop'>>;
  pause(params: MethodParams<'pause'>): Promise<MethodResult<'pause'>>;
  resume(params: MethodParams<'resume'>): Promise<MethodResult<'resume'>>;
  history(params: MethodParams<'history'>): Promise<MethodResult<'history'>>;
  run(params: MethodParams<'run'>): Promise<MethodResult<'run'>>;
  /** The last lines (files, rotated files included); following is done through `log` events. */
  logs(params: MethodParams<'logs'>): Promise<MethodResult<'logs'>>;
  reload(): Promise<MethodResult<'reload'>>;
  validate(params: MethodParams<'validate'>): Promise<MethodResult<'validate'>>;
  why(params: MethodParams<'why'>): Promise<MethodResult<'why'>>;
  plan(params: MethodParams<'plan'>): Promise<MethodResult<'plan'>>;
  preview(params: MethodParams<'preview'>): Promise<MethodResult<'preview'>>;
  vacuum(params: MethodParams<'vacuum'>): Promise<MethodResult<'vacuum'>>;
  watermark(params: MethodParams<'watermark'>): Promise<MethodResult<'watermark'>>;
}
