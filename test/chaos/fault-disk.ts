/**
 * Fault 6, full disk on staging: a small tmpfs mounted for one step and used as the daemon's
 * ETLD_HOME (so its temp root `<tmpfs>/tmp` is on it; see pipeline-home.ts for why not the real
 * home). Needs root and a kernel that lets this container mount tmpfs; `tmpfsAvailable()` probes
 * that once per process, and when it cannot, the fault is reported as unavailable, never as run.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

let probed: { available: boolean; reason: string } | undefined;
/** Mounted and not yet released: unmounted by `releaseAllTmpfs` when the harness is interrupted. */
const mounted = new Set<string>();

function mount(dir: string, sizeKb: number): void {
  execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${sizeKb}k,mode=0755`, 'tmpfs', dir], { stdio: 'pipe' });
}

function unmount(dir: string): void {
  try {
    execFileSync('umount', [dir], { stdio: 'pipe' });
  } catch {
    execFileSync('umount', ['-l', dir], { stdio: 'pipe' });
  }
}

export function tmpfsAvailability(): { available: boolean; reason: string } {
  if (probed !== undefined) return probed;
  const dir = mkdtempSync(join(tmpdir(), 'etld-chaos-probe-'));
  try {
    mount(dir, 64);
    unmount(dir);
    probed = { available: true, reason: 'mount -t tmpfs works' };
  } catch (error) {
    const message = error instanceof Error ? error.message.split('\n')[0] : String(error);
    probed = { available: false, reason: `mount -t tmpfs failed: ${message ?? ''}` };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return probed;
}

export interface MountedTmpfs {
  readonly dir: string;
  release(): void;
}

export function mountTmpfs(sizeKb: number): MountedTmpfs {
  const dir = mkdtempSync(join(tmpdir(), 'etld-chaos-tmpfs-'));
  try {
    mount(dir, sizeKb);
  } catch (error) {
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
  mounted.add(dir);
  return {
    dir,
    release: () => {
      mounted.delete(dir);
      unmount(dir);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export function releaseAllTmpfs(): void {
  for (const dir of [...mounted]) {
    mounted.delete(dir);
    try {
      unmount(dir);
      rmSync(dir, { recursive: true, force: true });
    } catch {
      // best effort on the way out
    }
  }
}
