import { existsSync, readFileSync } from 'node:fs';
import * as path from 'node:path';

let cached: { name: string; version: string } | undefined;

/** NIST "Tool Used (include version)": this service's package version, found from source or dist alike. */
export function kuraTool(): { name: string; version: string } {
  if (cached) return cached;
  let dir = __dirname;
  for (let i = 0; i < 8; i++) {
    const file = path.join(dir, 'package.json');
    if (existsSync(file)) {
      const pkg = JSON.parse(readFileSync(file, 'utf8')) as { name?: string; version?: string };
      if (pkg.name === 'kura' && pkg.version) return (cached = { name: 'Kura', version: pkg.version });
    }
    dir = path.dirname(dir);
  }
  return (cached = { name: 'Kura', version: 'unknown' });
}
