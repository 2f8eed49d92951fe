import { ChildProcess, execFileSync, spawn } from 'node:child_process';
import { readFileSync, statSync } from 'node:fs';
import { chmod, mkdir, mkdtemp, rm } from 'node:fs/promises';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { Client } from 'pg';
import { JsonLogger } from '@kura/common';
import { loadConfig } from '@kura/config';
import { freePort, pidAlive, startInfrastructure } from '@kura/embedded';
import { testInfra } from './support/infra';

jest.setTimeout(120_000);
const ROOT = path.resolve(__dirname, '..');

/** Accepts TCP connections and never says a word: a hung server. */
async function silentServer(): Promise<{ port: number; close(): Promise<void> }> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((s) => sockets.add(s));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    port: (server.address() as net.AddressInfo).port,
    close: () => {
      for (const s of sockets) s.destroy();
      return new Promise((r) => server.close(() => r()));
    },
  };
}

async function failure(p: Promise<unknown>): Promise<string> {
  return p.then(
    () => 'resolved',
    (err: unknown) => (err instanceof Error ? err.message : `rejected with ${String(err)}`),
  );
}

describe('embedded mode explains itself', () => {
  const logger = new JsonLogger('error', () => undefined);
  let tmp: string;
  beforeAll(async () => {
    tmp = await mkdtemp(path.join(os.tmpdir(), 'kura-embedded-'));
  });
  afterAll(async () => {
    await rm(tmp, { recursive: true, force: true });
  });

  describe('connect timeouts name the server and where it is', () => {
    const infra = () => testInfra();
    const s3Env = () => ({ S3_ENDPOINT: `http://${infra().s3.endPoint}:${infra().s3.port}`, S3_ACCESS_KEY: 'x', S3_SECRET_KEY: 'y' });

    it('PostgreSQL that accepts but never answers', async () => {
      const hung = await silentServer();
      try {
        const config = loadConfig({ DATABASE_URL: `postgres://kura:secret-pw@127.0.0.1:${hung.port}/kura`, ...s3Env(), CONNECT_TIMEOUT_SECONDS: '1', VAR_DIR: tmp });
        const started = Date.now();
        const message = await failure(startInfrastructure(config, logger));
        expect(message).toBe(`PostgreSQL at 127.0.0.1:${hung.port} (DATABASE_URL) accepted no answer within 1 s.`);
        expect(Date.now() - started).toBeLessThan(5_000);
      } finally {
        await hung.close();
      }
    });

    it('an S3 server that accepts but never answers, and a refused PostgreSQL', async () => {
      const hung = await silentServer();
      try {
        const config = loadConfig({ DATABASE_URL: infra().databaseUrl, S3_ENDPOINT: `http://127.0.0.1:${hung.port}`, S3_ACCESS_KEY: 'x', S3_SECRET_KEY: 'y', CONNECT_TIMEOUT_SECONDS: '1', VAR_DIR: tmp });
        expect(await failure(startInfrastructure(config, logger))).toBe(`The S3 server at http://127.0.0.1:${hung.port} (S3_ENDPOINT) accepted no answer within 1 s.`);
      } finally {
        await hung.close();
      }
      const closed = await freePort();
      const refused = loadConfig({ DATABASE_URL: `postgres://kura:pw@127.0.0.1:${closed}/kura`, ...s3Env(), VAR_DIR: tmp });
      const message = await failure(startInfrastructure(refused, logger));
      expect(message).toBe(`PostgreSQL at 127.0.0.1:${closed} (DATABASE_URL) refused the connection.`);
      expect(message).not.toMatch(/pw|undefined/);
    });
  });

  describe('a data directory in use, and one left behind by kill -9', () => {
    const children: ChildProcess[] = [];
    afterAll(() => {
      for (const c of children) if (c.pid && pidAlive(c.pid)) c.kill('SIGTERM');
    });

    interface ChildAnswer {
      ready?: boolean;
      port?: number;
      warnings?: string[];
      error?: string;
    }

    /** `npm start`'s infrastructure start-up in a child process with VAR_DIR = varDir. */
    function embeddedStart(varDir: string, mode: 'hold' | 'once'): Promise<{ child: ChildProcess; answer: ChildAnswer }> {
      const env: Record<string, string> = { PATH: process.env.PATH ?? '', VAR_DIR: varDir, KURA_CHILD_MODE: mode };
      const proc = spawn(process.execPath, ['-r', './test/support/swc-register.cjs', 'test/support/embedded-postgres-child.ts'], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'inherit'] });
      children.push(proc);
      return new Promise((resolve, reject) => {
        let buf = '';
        proc.stdout!.on('data', (c: Buffer) => {
          buf += c.toString();
          const line = buf.split('\n').find((l) => l.startsWith('{'));
          if (line && buf.includes('\n')) resolve({ child: proc, answer: JSON.parse(line) as ChildAnswer });
        });
        proc.on('exit', (code) => reject(new Error(`child exited with ${code} before answering`)));
      });
    }

    it('says which process holds it and prints a DATABASE_URL that reaches it; after kill -9 the next start takes over', async () => {
      const varDir = path.join(tmp, 'var-in-use');
      const dataDir = path.join(varDir, 'postgres');
      const held = await embeddedStart(varDir, 'hold');
      expect(held.answer.ready).toBe(true);
      const postmasterPid = Number(readFileSync(path.join(dataDir, 'postmaster.pid'), 'utf8').split('\n')[0]);

      const second = await embeddedStart(varDir, 'once');
      const message = second.answer.error ?? '';
      expect(message).toContain(`The embedded PostgreSQL data directory ${dataDir} is in use by process ${held.child.pid} (`);
      expect(message).toContain(`PostgreSQL pid ${postmasterPid} on 127.0.0.1:${held.answer.port}`);
      expect(message).not.toContain(readFileSync(`${dataDir}.secret`, 'utf8').trim());
      // The printed DATABASE_URL works as printed, in a shell.
      const url = /DATABASE_URL="([^"]+)"/.exec(message)![1];
      const client = new Client({ connectionString: execFileSync('bash', ['-c', `echo "${url}"`]).toString().trim() });
      await client.connect();
      await client.end();
      expect(pidAlive(postmasterPid)).toBe(true);

      // kill -9 leaves PostgreSQL running, re-parented: the next start stops that orphan and reuses the data.
      held.child.kill('SIGKILL');
      await new Promise((r) => held.child.once('exit', r));
      expect(pidAlive(postmasterPid)).toBe(true);
      const third = await embeddedStart(varDir, 'once');
      expect(third.answer).toMatchObject({ ready: true });
      expect(third.answer.warnings!.join('\n')).toMatch(/orphaned embedded PostgreSQL/);
      expect(pidAlive(postmasterPid)).toBe(false);
      await new Promise((r) => third.child.once('exit', r));
    });

    // As root (this machine and CI) PostgreSQL runs as the postgres user, which cannot search the home.
    it('a data directory under a mode-0700 home starts, stays private, and is reused by the next start', async () => {
      const home = path.join(tmp, 'root-home');
      await mkdir(home, { mode: 0o700 });
      await chmod(home, 0o700);
      const varDir = path.join(home, 'kura', 'var');
      const first = await embeddedStart(varDir, 'once');
      expect(first.answer).toMatchObject({ ready: true });
      await new Promise((r) => first.child.once('exit', r));
      const dataDir = path.join(varDir, 'postgres');
      const self = process.getuid!();
      const serverUid = self === 0 ? Number(execFileSync('id', ['-u', 'postgres']).toString().trim()) : self;
      expect({ uid: statSync(dataDir).uid, mode: statSync(dataDir).mode & 0o777 }).toEqual({ uid: serverUid, mode: 0o700 });
      expect({ uid: statSync(varDir).uid, mode: statSync(varDir).mode & 0o777 }).toEqual({ uid: self, mode: 0o700 });
      expect(statSync(home).mode & 0o777).toBe(0o700);
      const initialised = statSync(path.join(dataDir, 'PG_VERSION')).mtimeMs;
      const second = await embeddedStart(varDir, 'once');
      expect(second.answer).toMatchObject({ ready: true });
      await new Promise((r) => second.child.once('exit', r));
      expect(statSync(path.join(dataDir, 'PG_VERSION')).mtimeMs).toBe(initialised);
    });
  });
});
