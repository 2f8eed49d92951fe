import { ChildProcess, execFileSync, spawn } from 'node:child_process';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { freePort, pidAlive } from '@kura/embedded';
import { launchBrowser, newContext, signIn } from './web/browser';

// The brief: `npm ci && npm start` and `npm ci && npm test` work on a fresh machine, also as root
// from a clone in root's home (mode 0700), where the `postgres` user PostgreSQL runs as cannot
// traverse to the clone's node_modules or ./var. This runs both commands in such a clone.
jest.setTimeout(240_000);
const ROOT = path.resolve(__dirname, '..');
const isRoot = process.getuid?.() === 0;

function exited(child: ChildProcess): Promise<number | null> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve(child.exitCode);
    else child.once('exit', (code) => resolve(code));
  });
}

function parentPid(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
}

function uidOf(pid: number): number {
  return Number(/^Uid:\s+(\d+)/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1]);
}

/** Who runs PostgreSQL: the `postgres` user when Kura runs as root (it refuses root), else Kura's own user. */
const serverUid = (): number => (isRoot ? Number(execFileSync('id', ['-u', 'postgres']).toString().trim()) : process.getuid!());

// As root (this machine and CI) this is the brief's case; under any other user the same checks hold.
describe('a clone in a mode-0700 home (as root: the postgres user cannot reach into it)', () => {
  let home: string;
  let clone: string;
  const children: ChildProcess[] = [];

  beforeAll(async () => {
    // A home like /root: mode 0700, owned by root; the clone, its node_modules and ./var inside it.
    home = await mkdtemp(path.join(os.tmpdir(), 'kura-root-home-'));
    expect(statSync(home).mode & 0o777).toBe(0o700);
    clone = path.join(home, 'kura');
    execFileSync('git', ['clone', '--quiet', ROOT, clone], { stdio: ['ignore', 'ignore', 'pipe'] });
    // Hard links keep this fast; the binaries' path is still inside the 0700 home.
    execFileSync('cp', ['-al', path.join(ROOT, 'node_modules'), path.join(clone, 'node_modules')]);
    await mkdir(path.join(home, 'tmp'), { mode: 0o700 });
  });

  afterAll(async () => {
    for (const c of children) if (c.pid && pidAlive(c.pid)) process.kill(-c.pid, 'SIGKILL');
    if (home) await rm(home, { recursive: true, force: true });
  });

  /** The environment of a root login whose home is the 0700 directory; temporary files stay inside it too. */
  const env = (extra: Record<string, string> = {}) => ({
    PATH: `${path.dirname(process.execPath)}:${process.env.PATH ?? ''}`,
    HOME: home,
    TMPDIR: path.join(home, 'tmp'),
    npm_config_update_notifier: 'false',
    ...extra,
  });

  it('`npm start` runs on embedded PostgreSQL with data under <clone>/var, answers ready, and exits 0 on SIGTERM', async () => {
    const port = await freePort();
    const npm = spawn('npm', ['start'], {
      cwd: clone,
      env: env({ PORT: String(port), HOST: '127.0.0.1', LOG_FORMAT: 'json', BOOTSTRAP_ADMIN_PASSWORD: 'Root-clone-test-1' }),
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    children.push(npm);
    let output = '';
    npm.stderr!.on('data', (c: Buffer) => (output += c.toString()));
    const url = await new Promise<string>((resolve, reject) => {
      let buffered = '';
      npm.stdout!.on('data', (c: Buffer) => {
        buffered += c.toString();
        const line = buffered.split('\n').find((l) => l.includes('"Kura is listening"'));
        if (line) resolve(String((JSON.parse(line) as { url: string }).url));
      });
      void exited(npm).then((code) => reject(new Error(`npm start exited with ${code} before listening: ${output.trim().split('\n').slice(-3).join(' | ')}`)));
    });
    expect(url).toBe(`http://127.0.0.1:${port}`);
    const ready = await fetch(`${url}/api/v1/health/ready`);
    expect(ready.status).toBe(200);

    // The printed URL opens the console (built by `npm start`): a browser sees its sign-in form
    // there, and the bootstrap administrator signs in.
    const browser = await launchBrowser();
    try {
      const page = await (await newContext(browser)).newPage();
      await page.goto(url);
      await page.locator('input[name=username]').waitFor();
      await signIn(page, url, 'admin', 'Root-clone-test-1');
      expect(await page.getByTestId('whoami').textContent()).toContain('Administrator');
    } finally {
      await browser.close();
    }

    // The cluster lives in <clone>/var/postgres, private, run by the postgres user.
    const dataDir = path.join(clone, 'var', 'postgres');
    expect(existsSync(path.join(dataDir, 'PG_VERSION'))).toBe(true);
    expect(statSync(dataDir).mode & 0o777).toBe(0o700);
    expect(statSync(path.join(clone, 'var')).mode & 0o777).toBe(0o700);
    const postmaster = Number(readFileSync(path.join(dataDir, 'postmaster.pid'), 'utf8').split('\n')[0]);
    expect(uidOf(postmaster)).toBe(serverUid());
    expect(statSync(home).mode & 0o777).toBe(0o700);

    // SIGTERM to the service process (the cluster's parent), as a process manager would send it.
    const api = parentPid(postmaster);
    expect(readFileSync(`/proc/${api}/cmdline`, 'utf8')).toContain('dist/apps/api/src/main.js');
    process.kill(api, 'SIGTERM');
    expect(await exited(npm)).toBe(0);
    expect(pidAlive(postmaster)).toBe(false);
    expect(existsSync(path.join(dataDir, 'postmaster.pid'))).toBe(false);
  });

  it('`npm test`\'s global setup starts its PostgreSQL from the clone and an e2e test passes', async () => {
    const jest = spawn(process.execPath, ['node_modules/jest/bin/jest.js', '--selectProjects', 'e2e', '-w', '1', 'test/health.e2e-spec.ts'], {
      cwd: clone,
      env: env({ CI: 'true' }),
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    children.push(jest);
    let output = '';
    jest.stdout!.on('data', (c: Buffer) => (output += c.toString()));
    jest.stderr!.on('data', (c: Buffer) => (output += c.toString()));
    const code = await exited(jest);
    expect({ code, tail: code === 0 ? '' : output.slice(-2000) }).toEqual({ code: 0, tail: '' });
    expect(output).toMatch(/Tests:\s+\d+ passed, \d+ total/);
  });
});
