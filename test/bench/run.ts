import 'reflect-metadata';
import { runAuditBench } from './audit.bench';
import { runConsoleBench } from './console.bench';
import { runLoginFloodBench } from './login-flood.bench';
import { runListBench } from './list.bench';
import { runLoadBench } from './load.bench';
import { runStorageBench } from './storage.bench';

/** `npm run bench -- <name>`: one entry per benchmark. Not a test: nothing here gates CI. */
const BENCHES: Record<string, () => Promise<void>> = {
  audit: runAuditBench,
  console: runConsoleBench,
  'login-flood': runLoginFloodBench,
  list: runListBench,
  load: runLoadBench,
  storage: runStorageBench,
};

async function main(): Promise<void> {
  const names = process.argv.slice(2);
  const unknown = names.filter((n) => !(n in BENCHES));
  if (names.length === 0 || unknown.length) {
    console.error(`usage: npm run bench -- <${Object.keys(BENCHES).join('|')}> ...${unknown.length ? ` (unknown: ${unknown.join(', ')})` : ''}`);
    process.exit(2);
  }
  for (const name of names) await BENCHES[name]();
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
