/**
 * Which file keeps a pipeline name that several files claim (`cp orders.yaml orders-copy.yaml`).
 * The name carries the pipeline's watermark and history, so it must never move to a copy just
 * because the copy sorts first. In order:
 *   1. the file that defined the pipeline before (the daemon's record, kept in its state store
 *      across reloads and restarts), as long as it still claims the name, valid or not;
 *   2. with no such record (a first start, `etlctl validate` without a daemon): the file named
 *      after the pipeline (`orders.yaml` / `orders.yml` for `name: orders`);
 *   3. else the first claiming file in name order.
 * Every other claiming file is refused, with a message naming both files and the reason.
 */
import { basename } from 'node:path';

export interface Claim {
  readonly name: string;
  readonly file: string;
}

export interface RefusedClaim {
  readonly name: string;
  readonly file: string;
  /** Names the file that keeps the name and why (for the refused file's `name:` line). */
  readonly message: string;
}

function keeper(
  name: string,
  files: readonly string[],
  owners: ReadonlyMap<string, string>,
): { file: string; why: string } {
  const recorded = owners.get(name);
  if (recorded !== undefined && files.includes(recorded))
    return { file: recorded, why: 'it defined the pipeline before' };
  const namesake = files.find((f) => basename(f) === `${name}.yaml` || basename(f) === `${name}.yml`);
  if (namesake !== undefined)
    return {
      file: namesake,
      why: `no earlier file is on record, and ${basename(namesake)} is named after the pipeline`,
    };
  const first = [...files].sort()[0] ?? '';
  return { file: first, why: 'no earlier file is on record; the first file in name order keeps it' };
}

/** The refused claims, by file (files not in the map keep their name). */
export function settleClaims(
  claims: readonly Claim[],
  owners: ReadonlyMap<string, string>,
): Map<string, RefusedClaim> {
  const byName = new Map<string, string[]>();
  for (const claim of claims) byName.set(claim.name, [...(byName.get(claim.name) ?? []), claim.file]);
  const refused = new Map<string, RefusedClaim>();
  for (const [name, files] of byName) {
    if (files.length < 2) continue;
    const kept = keeper(name, files, owners);
    for (const file of files) {
      if (file === kept.file) continue;
      refused.set(file, {
        name,
        file,
        message: `pipeline "${name}" is already defined in ${kept.file}, which keeps it (${kept.why}); this file is not loaded: give it another name: or remove it`,
      });
    }
  }
  return refused;
}
