import { mkdtempSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

/** Interpolates ${VAR:?msg} / ${VAR:-default} the way docker compose does, from `vars`. */
export function interpolate(env: Record<string, string>, vars: Record<string, string>): Record<string, string> {
  return Object.fromEntries(
    Object.entries(env).map(([k, v]) => [
      k,
      String(v).replace(/\$\{(\w+)(?::([?-])([^}]*))?\}/g, (_, name: string, op?: string, arg?: string) => {
        if (vars[name] !== undefined && vars[name] !== '') return vars[name];
        if (op === '-') return arg ?? '';
        throw new Error(`${name} is required: ${arg}`);
      }),
    ]),
  );
}

/**
 * Writes compose secrets (name -> value) as files in a temp dir, as docker/make-secrets.sh does,
 * and returns a mapper that points each `/run/secrets/<name>` value in an environment there.
 */
export function composeSecrets(values: Record<string, string>): { dir: string; map: (env: Record<string, string>) => Record<string, string> } {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'kura-compose-secrets-'));
  for (const [name, value] of Object.entries(values)) writeFileSync(path.join(dir, name), `${value}\n`);
  const map = (env: Record<string, string>) =>
    Object.fromEntries(Object.entries(env).map(([k, v]) => [k, v.startsWith('/run/secrets/') ? path.join(dir, v.slice('/run/secrets/'.length)) : v]));
  return { dir, map };
}
