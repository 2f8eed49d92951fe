import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { startTestApp, TestApp } from './support/app';
import { ADMIN } from './support/auth';

jest.setTimeout(120_000);
const ROOT = path.resolve(__dirname, '..');

/** The ```sh blocks of a Markdown file, in order: the document is the test input. */
function shellBlocks(file: string): string[] {
  const text = readFileSync(path.join(ROOT, file), 'utf8');
  return [...text.matchAll(/^```sh\n([\s\S]*?)^```$/gm)].map((m) => m[1]);
}

function bash(script: string, cwd: string, env: Record<string, string>): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn('bash', ['-c', script], { cwd, env: { PATH: process.env.PATH ?? '', HOME: cwd, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

describe('docs/documents.md worked example', () => {
  let t: TestApp;
  let dir: string;
  let api: string;
  beforeAll(async () => {
    t = await startTestApp();
    await t.app.listen(0, '127.0.0.1');
    api = `http://127.0.0.1:${(t.app.getHttpServer().address() as { port: number }).port}/api/v1`;
    dir = await mkdtemp(path.join(os.tmpdir(), 'kura-walkthrough-'));
  });
  afterAll(async () => {
    await t.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('runs verbatim against a started service, every step passing', async () => {
    const blocks = shellBlocks('docs/documents.md');
    expect(blocks.length).toBeGreaterThanOrEqual(2);
    // One shell, blocks in order, as a reader pasting them into a terminal.
    const run = await bash(blocks.join('\n'), dir, { API: api, ADMIN_USER: ADMIN.username, ADMIN_PASSWORD: ADMIN.password });
    expect({ code: run.code, stderr: run.stderr }).toEqual({ code: 0, stderr: '' });
    expect(run.stdout).toContain('{\n  "username": "alice",');
    expect(run.stdout).toMatch(/^uploaded [0-9a-f-]{36}$/m);
    expect(run.stdout).toContain('{"total":1,"titles":["Travel expenses policy"]}');
    expect(run.stdout).toMatch(/^x-classification: CONFIDENTIAL\r?$/im);
    expect(run.stdout).toContain('the download matches the upload');
    expect(run.stdout).toContain('{"version":2,"title":"Travel expenses policy"}');
  });
});
