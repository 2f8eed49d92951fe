import { ChildProcess, execFileSync, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdtemp, writeFile } from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import type { S3Settings } from '@kura/config';

const ROOT = path.resolve(__dirname, '../../..');
const REGISTER = path.join(ROOT, 'test/support/swc-register.cjs');

export interface Child {
  child: ChildProcess;
  lines: Array<Record<string, unknown>>;
  exited: Promise<number | null>;
  stderr: string[];
}

/** Runs a TypeScript entry point (compiled on the fly, like jest) and waits for `ready(line)`. */
function run(entry: string, env: Record<string, string>, ready: (line: Record<string, unknown>) => boolean, timeoutMs = 60_000): Promise<Child> {
  const child = spawn(process.execPath, ['-r', REGISTER, path.join(ROOT, entry)], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const lines: Array<Record<string, unknown>> = [];
  const stderr: string[] = [];
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code, signal) => resolve(code ?? (signal ? -1 : null))));
  child.stderr!.on('data', (c: Buffer) => stderr.push(c.toString('utf8')));
  return new Promise((resolve, reject) => {
    let buffered = '';
    const timer = setTimeout(() => reject(new Error(`${entry} did not start within ${timeoutMs} ms: ${stderr.join('')}`)), timeoutMs);
    child.stdout!.on('data', (chunk: Buffer) => {
      buffered += chunk.toString('utf8');
      let nl: number;
      while ((nl = buffered.indexOf('\n')) >= 0) {
        const line = buffered.slice(0, nl);
        buffered = buffered.slice(nl + 1);
        let entry: Record<string, unknown>;
        try {
          entry = JSON.parse(line) as Record<string, unknown>;
        } catch {
          continue; // not a log line
        }
        lines.push(entry);
        if (ready(entry)) {
          clearTimeout(timer);
          resolve({ child, lines, exited, stderr });
        }
      }
    });
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`${entry} exited early with ${code}: ${stderr.join('').slice(-2000)}`));
    });
  });
}

export interface ApiChild extends Child {
  url: string;
}

export interface ApiEnv {
  databaseUrl: string;
  s3: S3Settings;
  keysDir: string;
  env?: Record<string, string>;
}

/** One api process (no in-process worker) on the given database, bucket and keys. */
export async function startApi(o: ApiEnv): Promise<ApiChild> {
  const c = await run(
    'apps/api/src/main.ts',
    {
      NODE_ENV: 'test',
      LOG_LEVEL: 'info',
      HOST: '127.0.0.1',
      PORT: '0',
      RUN_WORKER_IN_PROCESS: 'false',
      DATABASE_URL: o.databaseUrl,
      S3_ENDPOINT: `http://${o.s3.endPoint}:${o.s3.port}`,
      S3_ACCESS_KEY: o.s3.accessKey,
      S3_SECRET_KEY: o.s3.secretKey,
      S3_BUCKET: o.s3.bucket,
      KEYS_DIR: o.keysDir,
      VAR_DIR: path.join(o.keysDir, 'var'),
      BOOTSTRAP_ADMIN_USERNAME: 'admin',
      BOOTSTRAP_ADMIN_PASSWORD: 'Bootstrap-Admin-Pass-1',
      ...o.env,
    },
    (l) => l.msg === 'Kura is listening',
  );
  const url = String(c.lines.find((l) => l.msg === 'Kura is listening')!.url);
  return { ...c, url };
}

export interface S3Child extends Child {
  settings: S3Settings;
  dir: string;
}

export interface S3Trap {
  /** SIGSTOP (frozen, SIGCONT resumes it) or SIGKILL (gone). */
  action: 'stop' | 'kill';
  /** GET: after sending `afterBytes` of an object's body; PUT: after receiving them. */
  method: 'GET' | 'PUT';
  afterBytes: number;
}

/** Arms the s3 child's one-shot trap (see s3-child.ts); resolves once it is armed. */
export async function armS3(s3: S3Child, trap: S3Trap): Promise<void> {
  await writeFile(`${s3.dir}.trap`, JSON.stringify(trap));
  // Forget earlier firings: s3TrapFired and trapFiredAt then speak of this trap only.
  for (let i = s3.lines.length - 1; i >= 0; i--) if (s3.lines[i].msg === 's3 trap fired') s3.lines.splice(i, 1);
  const armed = s3.lines.filter((l) => l.msg === 's3 armed').length;
  s3.child.kill('SIGUSR2');
  await waitFor(() => s3.lines.filter((l) => l.msg === 's3 armed').length > armed, 10_000, 'the s3 trap to be armed');
}

/** When the armed trap fired (the child's clock, epoch ms), or null while it has not. */
export function trapFiredAt(s3: S3Child): number | null {
  const line = s3.lines.find((l) => l.msg === 's3 trap fired');
  return line ? Number(line.at) : null;
}

/** Resolves when the armed trap has fired (the child is then stopped or dead). */
export function s3TrapFired(s3: S3Child, timeoutMs = 30_000): Promise<void> {
  return waitFor(() => s3.lines.some((l) => l.msg === 's3 trap fired'), timeoutMs, 'the s3 trap to fire');
}

async function waitFor(check: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** An s3rver of its own in a child process, so a test can SIGSTOP or kill it. */
export async function startS3(dir?: string, port = 0): Promise<S3Child> {
  const directory = dir ?? (await mkdtemp(path.join(os.tmpdir(), 'kura-s3-')));
  const c = await run('test/faults/support/s3-child.ts', { KURA_S3_DIR: directory, KURA_S3_PORT: String(port) }, (l) => l.msg === 's3 ready');
  const settings = c.lines.find((l) => l.msg === 's3 ready')!.settings as S3Settings;
  return { ...c, settings, dir: directory };
}

export interface PgChild extends Child {
  url: string;
  port: number;
}

/** An embedded PostgreSQL with its data in `dir` (reused when started again). */
export async function startPostgres(dir: string): Promise<PgChild> {
  const c = await run('test/faults/support/pg-child.ts', { KURA_PG_DIR: dir }, (l) => l.msg === 'pg ready', 120_000);
  const line = c.lines.find((l) => l.msg === 'pg ready')!;
  return { ...c, url: String(line.url), port: Number(line.port) };
}

/** kill -9 of the postmaster and every backend it started (a crash of the whole server). */
export function crashPostgres(dir: string): number[] {
  const postmaster = Number(readFileSync(path.join(dir, 'postmaster.pid'), 'utf8').split('\n')[0]);
  const children = execFileSync('ps', ['-o', 'pid=', '--ppid', String(postmaster)], { encoding: 'utf8' })
    .split('\n')
    .map((l) => Number(l.trim()))
    .filter((n) => n > 0);
  const pids = [postmaster, ...children];
  for (const pid of pids) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
  return pids;
}

export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

export async function tempKeysDir(): Promise<string> {
  return mkdtemp(path.join(os.tmpdir(), 'kura-keys-'));
}

/** SIGKILL and wait for the exit. */
export async function kill9(c: Child): Promise<void> {
  c.child.kill('SIGKILL');
  await c.exited;
}
