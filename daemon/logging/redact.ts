/**
 * Last line of defence against secrets in log lines and alert mails. Secrets are never supposed to
 * reach a message, but driver errors quote connection strings and DSNs verbatim, so every
 * sink passes text through here before it leaves the process.
 */

const MASK = '***';

/** Field names whose values are always masked, whatever they contain. */
const SECRET_KEY =
  /(pass(word|wd|phrase)?|pwd|secret|token|api[_-]?key|private[_-]?key|credential|authorization|cookie)$/i;

const RULES: readonly { readonly pattern: RegExp; readonly replace: string }[] = [
  // scheme://user:password@host (postgres://, mysql://, mssql://, smtp://, https://…)
  { pattern: /\b([a-z][a-z0-9+.-]*:\/\/[^\s:/@]*):([^\s@/]+)@/gi, replace: `$1:${MASK}@` },
  // Authorization headers and bare bearer/basic credentials
  { pattern: /\b(Bearer|Basic)\s+[A-Za-z0-9._~+/=-]{4,}/g, replace: `$1 ${MASK}` },
  // "password": "…" and 'password': '…' (JSON and JS object dumps)
  {
    pattern:
      /(["']?[\w-]*(?:password|passwd|pwd|secret|token|api[_-]?key)["']?\s*:\s*)(["'])(?:\\.|(?!\2).)*\2/gi,
    replace: `$1$2${MASK}$2`,
  },
  // key=value and key: value in DSNs, logfmt and YAML-ish text; a quoted value is masked whole
  {
    pattern:
      /\b([\w-]*(?:password|passwd|pwd|secret|token|api[_-]?key))(\s*[=:]\s*)("[^"]*"|'[^']*'|[^\s;,&'"}]+)/gi,
    replace: `$1$2${MASK}`,
  },
];

/** Cheap first pass: almost no line contains any trigger, and then the rules need not run. */
const TRIGGER = /:\/\/|bearer|basic|pass|pwd|secret|token|api[_-]?key/i;

/** Masks secret-looking substrings (URL passwords, bearer tokens, password=… pairs). */
export function redact(text: string): string {
  if (!TRIGGER.test(text)) return text;
  let out = text;
  for (const rule of RULES) out = out.replace(rule.pattern, rule.replace);
  return out;
}

function isSecretKey(key: string): boolean {
  return SECRET_KEY.test(key);
}

/** Redacts one structured field: the whole value when the key names a secret, else its text. */
export function redactField(
  key: string,
  value: string | number | boolean | null,
): string | number | boolean | null {
  if (isSecretKey(key)) return value === null ? null : MASK;
  return typeof value === 'string' ? redact(value) : value;
}
