import 'reflect-metadata';
import { createInterface } from 'node:readline/promises';
import { describeError } from '@kura/common';
import { runCli } from './cli';

const interactive = Boolean(process.stdin.isTTY && process.stderr.isTTY);
let progressShown = false;

runCli(process.argv.slice(2), {
  out: (line) => console.log(line),
  err: (line) => console.error(line),
  env: process.env,
  interactive,
  ask: async (question) => {
    const rl = createInterface({ input: process.stdin, output: process.stderr });
    try {
      return await rl.question(question);
    } finally {
      rl.close();
    }
  },
  progress: (event) => {
    if (interactive) {
      progressShown = true;
      const done = Number(event.rewrapped ?? 0) + Number(event.failed ?? 0);
      process.stderr.write(`\r${String(event.operation ?? 'progress')}: ${done} done, ${String(event.failed ?? 0)} failed`);
    } else {
      process.stderr.write(JSON.stringify({ event: 'progress', ...event }) + '\n');
    }
  },
}).then(
  (code) => {
    if (progressShown) process.stderr.write('\n');
    process.exit(code);
  },
  (err: unknown) => {
    console.error(`Error: ${describeError(err)}`);
    process.exit(1);
  },
);
