import { readFileSync } from 'node:fs';
import { rm, writeFile } from 'node:fs/promises';
import * as path from 'node:path';

/** Start-up cannot go on, for a reason the operator can act on: printed as one line, without a stack. */
export class EmbeddedPostgresError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'EmbeddedPostgresError';
  }
}

export function pidAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: it exists but belongs to another user (the postgres user, when we are not root).
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function commandLine(pid: number): string | undefined {
  try {
    const args = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean);
    return args.length ? args.join(' ').slice(0, 200) : undefined;
  } catch {
    return undefined;
  }
}

function parentPid(pid: number): number | undefined {
  try {
    // /proc/<pid>/stat: "pid (comm) state ppid …"; comm may hold spaces, so split after the last ')'.
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
  } catch {
    return undefined;
  }
}

/** The Kura process that started the cluster in dataDir, recorded beside it. */
interface Owner {
  pid: number;
  port: number;
}

export const ownerFile = (dataDir: string) => `${dataDir}.owner`;

export async function recordOwner(dataDir: string, port: number): Promise<void> {
  await writeFile(ownerFile(dataDir), JSON.stringify({ pid: process.pid, port } satisfies Owner) + '\n', { mode: 0o600 });
}

export async function clearOwner(dataDir: string): Promise<void> {
  await rm(ownerFile(dataDir), { force: true });
}

function readOwner(dataDir: string): Owner | undefined {
  try {
    const o = JSON.parse(readFileSync(ownerFile(dataDir), 'utf8')) as Owner;
    return Number.isInteger(o.pid) ? o : undefined;
  } catch {
    return undefined;
  }
}

/** postmaster.pid: line 1 the server's pid, line 4 its port. */
function runningPostmaster(dataDir: string): { pid: number; port: number } | undefined {
  try {
    const lines = readFileSync(path.join(dataDir, 'postmaster.pid'), 'utf8').split('\n');
    const pid = Number(lines[0]);
    return pidAlive(pid) ? { pid, port: Number(lines[3]) } : undefined;
  } catch {
    return undefined;
  }
}

async function waitForExit(pid: number, timeoutMs: number): Promise<boolean> {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    if (!pidAlive(pid)) return true;
    await new Promise((r) => setTimeout(r, 100));
  }
  return !pidAlive(pid);
}

/**
 * Before starting the cluster in dataDir: refuse with directions when another Kura process
 * is using it, and stop an orphan (a PostgreSQL left running by a Kura process that was
 * killed with SIGKILL, re-parented to init) so this start can take over its data.
 */
export async function claimDataDirectory(dataDir: string, log: (msg: string, meta: Record<string, unknown>) => void): Promise<void> {
  const postmaster = runningPostmaster(dataDir);
  if (!postmaster) return;
  const owner = readOwner(dataDir);
  const ppid = parentPid(postmaster.pid);
  const ownerAlive = owner ? pidAlive(owner.pid) : ppid !== undefined && ppid > 1 && ppid !== process.pid && pidAlive(ppid);
  if (ownerAlive) {
    const holder = owner?.pid ?? (ppid as number);
    const what = commandLine(holder);
    throw new EmbeddedPostgresError(
      `The embedded PostgreSQL data directory ${dataDir} is in use by process ${holder}${what ? ` (${what})` : ''}, ` +
        `PostgreSQL pid ${postmaster.pid} on 127.0.0.1:${postmaster.port}. Stop that process first, or reach its database with ` +
        `DATABASE_URL="postgres://postgres:$(cat ${dataDir}.secret)@127.0.0.1:${postmaster.port}/postgres"`,
    );
  }
  log('stopping an orphaned embedded PostgreSQL left running by a previous run', { pid: postmaster.pid, dataDir });
  try {
    // SIGINT is PostgreSQL's "fast" shutdown: roll back open transactions, checkpoint, exit.
    process.kill(postmaster.pid, 'SIGINT');
  } catch (err) {
    throw new EmbeddedPostgresError(`An orphaned PostgreSQL (pid ${postmaster.pid}) holds ${dataDir} and cannot be stopped (${(err as NodeJS.ErrnoException).code}): stop it, then start again.`);
  }
  if (!(await waitForExit(postmaster.pid, 30_000))) {
    throw new EmbeddedPostgresError(`An orphaned PostgreSQL (pid ${postmaster.pid}) holds ${dataDir} and did not stop within 30 s: stop it, then start again.`);
  }
  await clearOwner(dataDir);
}
