#!/usr/bin/env node
// Builds dist/ only when a source file is newer than the build (so `npm run cli` does not re-run tsc every time).
'use strict';
/* eslint-disable @typescript-eslint/no-require-imports -- a plain CommonJS script run before anything is built */
const { execFileSync } = require('node:child_process');
const { existsSync, readdirSync, statSync } = require('node:fs');
const path = require('node:path');

const root = path.resolve(__dirname, '..');
const marker = path.join(root, 'dist/apps/cli/src/main.js');

function newest(dir) {
  let latest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, entry.name);
    if (entry.isDirectory()) latest = Math.max(latest, newest(p));
    else if (entry.name.endsWith('.ts') && !entry.name.endsWith('.spec.ts')) latest = Math.max(latest, statSync(p).mtimeMs);
  }
  return latest;
}

const sources = Math.max(
  newest(path.join(root, 'apps')),
  newest(path.join(root, 'libs')),
  ...['tsconfig.json', 'tsconfig.build.json', 'package-lock.json'].map((f) => statSync(path.join(root, f)).mtimeMs),
);
if (!existsSync(marker) || statSync(marker).mtimeMs < sources) {
  process.stderr.write('Building (sources changed since the last build)…\n');
  execFileSync(process.execPath, [require.resolve('typescript/bin/tsc'), '-p', 'tsconfig.build.json'], { cwd: root, stdio: 'inherit' });
}
