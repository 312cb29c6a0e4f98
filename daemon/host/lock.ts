import { linkSync, mkdirSync, readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { EtlError } from '../../shared/errors.js';

/**
 * An exclusive lock on the state directory: `etld.lock` holds the owner's pid. It is created
 * atomically (write a private temp file, then hard-link it into place — link fails with EEXIST if
 * someone holds it). A lock whose pid no longer runs was left by a crash and is taken over.
 */
export class StateDirectoryLock {
  readonly path: string;
  readonly #pid: number;
  #held = false;

  constructor(stateDir: string, pid: number) {
    this.path = join(stateDir, 'etld.lock');
    this.#pid = pid;
  }

  acquire(isAlive: (pid: number) => boolean): void {
    mkdirSync(join(this.path, '..'), { recursive: true });
    const temp = `${this.path}.${this.#pid}.tmp`;
    writeFileSync(temp, `${this.#pid}\n`);
    try {
      for (let attempt = 0; attempt < 3; attempt++) {
        try {
          linkSync(temp, this.path);
          this.#held = true;
          return;
        } catch (error) {
          if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
        }
        const holder = this.#readHolder();
        if (holder !== undefined && holder !== this.#pid && isAlive(holder)) {
          throw new EtlError(
            'LOCKED',
            `another etld (pid ${holder}) is running with this state directory (${this.path}); stop it first or use another --home`,
          );
        }
        // Stale: its owner is gone. Remove and retry the atomic link.
        try {
          unlinkSync(this.path);
        } catch (error) {
          if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
        }
      }
      throw new EtlError('LOCKED', `could not take the lock ${this.path}`);
    } finally {
      try {
        unlinkSync(temp);
      } catch {
        // the temp file may already be gone; nothing depends on it
      }
    }
  }

  release(): void {
    if (!this.#held) return;
    this.#held = false;
    if (this.#readHolder() === this.#pid) {
      try {
        unlinkSync(this.path);
      } catch {
        // already removed: the lock is released either way
      }
    }
  }

  #readHolder(): number | undefined {
    try {
      const pid = Number.parseInt(readFileSync(this.path, 'utf8').trim(), 10);
      return Number.isFinite(pid) ? pid : undefined;
    } catch {
      return undefined;
    }
  }
}
