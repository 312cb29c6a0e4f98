/**
 * The `:` command palette (k9s-style): a view name, optionally with an argument, typed on the
 * status line. `tab` completes a unique prefix; `enter` runs it. Pure: parsing here, switching
 * views in the reducer.
 */

export const PALETTE_COMMANDS = [
  {
    name: 'pipelines',
    aliases: ['pipeline', 'pl', 'p'],
    help: 'the pipeline table (:pipelines TEXT filters)',
  },
  { name: 'runs', aliases: ['run', 'r'], help: "every pipeline's runs, newest first (:runs failed filters)" },
  { name: 'alerts', aliases: ['alert', 'a'], help: 'alerts the daemon sent or suppressed, newest first' },
  { name: 'logs', aliases: ['log', 'l'], help: "every pipeline's log, live (:logs NAME for one pipeline)" },
  {
    name: 'hosts',
    aliases: ['host', 'h'],
    help: 'the daemons sharing the state store: health, last heartbeat, what each runs',
  },
  { name: 'quit', aliases: ['q'], help: 'quit' },
] as const;

export type PaletteCommand = (typeof PALETTE_COMMANDS)[number]['name'];

export type PaletteParse =
  | { readonly ok: true; readonly command: PaletteCommand; readonly argument: string }
  | { readonly ok: false; readonly error: string };

function find(word: string): PaletteCommand | null {
  const lower = word.toLowerCase();
  const found = PALETTE_COMMANDS.find(
    (c) => c.name === lower || (c.aliases as readonly string[]).includes(lower),
  );
  return found?.name ?? null;
}

/** `runs failed` → runs with argument `failed`; a leading `:` is allowed (pasted from the help). */
export function parsePalette(text: string): PaletteParse {
  const trimmed = text.trim().replace(/^:/, '');
  const space = trimmed.search(/\s/);
  const word = space === -1 ? trimmed : trimmed.slice(0, space);
  const argument = space === -1 ? '' : trimmed.slice(space).trim();
  if (word === '') return { ok: false, error: 'type a view: :pipelines :runs :alerts :logs :hosts' };
  const command = find(word);
  if (command === null)
    return { ok: false, error: `unknown view ":${word}"; try :pipelines :runs :alerts :logs :hosts` };
  return { ok: true, command, argument };
}

/** The commands whose name starts with what is typed so far (all of them before anything is typed). */
export function paletteSuggestions(text: string): PaletteCommand[] {
  const word = text.trim().replace(/^:/, '').toLowerCase();
  if (/\s/.test(word)) return [];
  return PALETTE_COMMANDS.map((c) => c.name).filter((name) => name.startsWith(word));
}

/** `tab`: completes the command word when one command starts with it; otherwise leaves the text. */
export function completePalette(text: string): string {
  const matches = paletteSuggestions(text);
  return matches.length === 1 && matches[0] !== undefined ? `${matches[0]} ` : text;
}
