// eslint-disable-next-line @typescript-eslint/no-require-imports
const canonicalizeModule = require('canonicalize') as { default: (value: unknown) => string | undefined };

/** RFC 8785 (JCS) canonical JSON: the bytes that hashes and signatures cover. */
export function canonicalJson(value: unknown): string {
  const out = canonicalizeModule.default(value);
  if (out === undefined) throw new TypeError('value cannot be canonicalized');
  return out;
}
