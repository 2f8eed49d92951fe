import 'reflect-metadata';
import { runCli } from './cli';

runCli(process.argv.slice(2), {
  out: (line) => process.stdout.write(line + '\n'),
  err: (line) => process.stderr.write(line + '\n'),
  env: process.env,
}).then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`Failed: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  },
);
