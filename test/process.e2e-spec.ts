import { ChildProcess, execFile, spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { createDatabase, testInfra } from './support/infra';

const ROOT = path.resolve(__dirname, '..');
const MAIN = path.join(ROOT, 'dist/apps/api/src/main.js');

interface Running {
  child: ChildProcess;
  url: string;
  lines: Array<Record<string, unknown>>;
  exited: Promise<number | null>;
}

/** Starts the built service exactly as `npm run start:prod` does, with the given environment. */
function startService(env: Record<string, string>): Promise<Running> {
  const child = spawn(process.execPath, ['-r', 'tsconfig-paths/register', MAIN], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', TS_NODE_BASEURL: './dist', HOST: '127.0.0.1', PORT: '0', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const lines: Array<Record<string, unknown>> = [];
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return new Promise((resolve, reject) => {
    let buffered = '';
    const timer = setTimeout(() => reject(new Error('service did not start within 60 s')), 60_000);
    child.stdout!.on('data', (chunk: Buffer) => {
      buffered += chunk.toString('utf8');
      let nl: number;
      while ((nl = buffered.indexOf('\n')) >= 0) {
        const line = buffered.slice(0, nl);
        buffered = buffered.slice(nl + 1);
        try {
          const entry = JSON.parse(line) as Record<string, unknown>;
          lines.push(entry);
          if (entry.msg === 'Kura is listening') {
            clearTimeout(timer);
            resolve({ child, url: String(entry.url), lines, exited });
          }
        } catch {
          // non-JSON output (e.g. the bootstrap banner) is not a log line
        }
      }
    });
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`service exited early with ${code}`));
    });
  });
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe('the service process', () => {
  beforeAll(async () => {
    await promisify(execFile)(process.execPath, [require.resolve('typescript/bin/tsc'), '-p', 'tsconfig.build.json'], { cwd: ROOT });
  });

  it('starts on embedded PostgreSQL and S3, stops cleanly on SIGINT, and reuses ./var on the next start', async () => {
    const varDir = await mkdtemp(path.join(os.tmpdir(), 'kura-var-'));
    const env = { VAR_DIR: varDir };

    const started = Date.now();
    const first = await startService(env);
    const ready = await fetch(`${first.url}/api/v1/health/ready`);
    expect(ready.status).toBe(200);
    expect(Date.now() - started).toBeLessThan(60_000);
    expect(first.lines.find((l) => l.msg === 'embedded PostgreSQL started')).toMatchObject({ reusedData: false });
    expect(first.lines.some((l) => l.msg === 'embedded S3 (s3rver) started')).toBe(true);
    const postmasterPid = Number(readFileSync(path.join(varDir, 'postgres', 'postmaster.pid'), 'utf8').split('\n')[0]);
    expect(pidAlive(postmasterPid)).toBe(true);

    first.child.kill('SIGINT');
    expect(await first.exited).toBe(0);
    expect(pidAlive(postmasterPid)).toBe(false);
    expect(existsSync(path.join(varDir, 'postgres', 'postmaster.pid'))).toBe(false);
    await expect(fetch(`${first.url}/api/v1/health/live`)).rejects.toThrow();

    const second = await startService(env);
    expect(second.lines.find((l) => l.msg === 'embedded PostgreSQL started')).toMatchObject({ reusedData: true });
    // The schema from the first run is still there: nothing left to migrate.
    expect(second.lines.some((l) => l.msg === 'migrations applied')).toBe(false);
    expect((await fetch(`${second.url}/api/v1/health/ready`)).status).toBe(200);
    second.child.kill('SIGTERM');
    expect(await second.exited).toBe(0);
  });

  it('uses configured PostgreSQL and S3 servers and starts nothing embedded', async () => {
    const infra = testInfra();
    const varDir = await mkdtemp(path.join(os.tmpdir(), 'kura-var-'));
    const svc = await startService({
      VAR_DIR: varDir,
      DATABASE_URL: await createDatabase(infra),
      S3_ENDPOINT: `http://${infra.s3.endPoint}:${infra.s3.port}`,
      S3_ACCESS_KEY: infra.s3.accessKey,
      S3_SECRET_KEY: infra.s3.secretKey,
      S3_BUCKET: 'kura-external-check',
    });
    expect((await fetch(`${svc.url}/api/v1/health/ready`)).status).toBe(200);
    expect(svc.lines.some((l) => String(l.msg).startsWith('embedded'))).toBe(false);
    expect(existsSync(path.join(varDir, 'postgres'))).toBe(false);
    expect(existsSync(path.join(varDir, 'objects'))).toBe(false);
    svc.child.kill('SIGTERM');
    expect(await svc.exited).toBe(0);
  });

  it('refuses a bad configuration value with one line naming the variable', async () => {
    const { code, stdout, stderr } = await new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
      execFile(
        process.execPath,
        ['-r', 'tsconfig-paths/register', MAIN],
        { cwd: ROOT, env: { PATH: process.env.PATH ?? '', TS_NODE_BASEURL: './dist', PORT: 'abc' } },
        (err, out, errOut) => resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout: out, stderr: errOut }),
      );
    });
    expect(code).not.toBe(0);
    expect(stdout).toBe('');
    const lines = stderr.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/PORT/);
    expect(lines[0]).not.toMatch(/\s+at\s/);
  });
});
