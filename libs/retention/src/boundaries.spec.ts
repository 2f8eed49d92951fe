import { readdirSync, readFileSync } from 'node:fs';
import * as path from 'node:path';

/** Every .ts file of libs/retention/src except specs. */
function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const full = path.join(dir, e.name);
    if (e.isDirectory()) return sources(full);
    return e.name.endsWith('.ts') && !e.name.endsWith('.spec.ts') ? [full] : [];
  });
}

/**
 * One owner per table (docs/architecture.md): retention reads documents through the
 * documents capability's views and changes them through DocumentLifecycle, never by SQL.
 */
describe('retention capability boundaries', () => {
  it('no SQL in libs/retention names a documents table', () => {
    const offending: string[] = [];
    for (const file of sources(__dirname)) {
      const text = readFileSync(file, 'utf8');
      // SQL lives in template literals here; look at every one.
      for (const literal of text.match(/`[^`]*`/g) ?? []) {
        // A table named where SQL names tables: FROM, JOIN, UPDATE, INTO, VACUUM, TABLE.
        if (/\b(FROM|JOIN|UPDATE|INTO|VACUUM|TABLE)\s+(ONLY\s+)?(documents|document_versions)\b(?!\/)/i.test(literal)) offending.push(`${path.relative(__dirname, file)}: ${literal.slice(0, 80)}`);
      }
    }
    expect(offending).toEqual([]);
  });

  it('no retention file injects the documents repository', () => {
    const offending = sources(__dirname).filter((f) => /\bDocumentsRepository\b/.test(readFileSync(f, 'utf8')));
    expect(offending).toEqual([]);
  });
});
