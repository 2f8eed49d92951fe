import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm, stat } from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { COMMANDS, runCli } from './cli';
import type { CliIo } from './command';

/** Every file under dir with its mode and content hash: "nothing changed" means this is equal. */
async function snapshot(dir: string): Promise<Record<string, string>> {
  const result: Record<string, string> = {};
  async function walk(d: string): Promise<void> {
    for (const entry of await readdir(d, { withFileTypes: true })) {
      const p = path.join(d, entry.name);
      const s = await stat(p);
      if (entry.isDirectory()) {
        result[path.relative(dir, p) + '/'] = (s.mode & 0o777).toString(8);
        await walk(p);
      } else {
        result[path.relative(dir, p)] = `${(s.mode & 0o777).toString(8)} ${createHash('sha256').update(await readFile(p)).digest('hex')} ${s.mtimeMs}`;
      }
    }
  }
  await walk(dir);
  return result;
}

describe('kura CLI safety', () => {
  let root: string;
  let keysDir: string;
  let varDir: string;
  let env: Record<string, string>;

  beforeAll(async () => {
    root = await mkdtemp(path.join(os.tmpdir(), 'kura-cli-safety-'));
    keysDir = path.join(root, 'keys');
    varDir = path.join(root, 'var');
    // No DATABASE_URL: any command that started something would start an embedded PostgreSQL under varDir.
    env = { KEYS_DIR: keysDir, VAR_DIR: varDir };
    const init = await cli(['keys', 'init']);
    expect(init.code).toBe(0);
  });
  afterAll(async () => {
    await rm(root, { recursive: true, force: true });
  });

  async function cli(argv: string[], extra: Partial<CliIo> = {}): Promise<{ code: number; out: string; err: string }> {
    const out: string[] = [];
    const err: string[] = [];
    const code = await runCli(argv, { out: (l) => out.push(l), err: (l) => err.push(l), env, ...extra });
    return { code, out: out.join('\n'), err: err.join('\n') };
  }

  it('creates production keys with owner-only modes, and never overwrites them', async () => {
    expect((await stat(keysDir)).mode & 0o777).toBe(0o700);
    expect((await stat(path.join(keysDir, 'kek'))).mode & 0o777).toBe(0o700);
    const files = await snapshot(keysDir);
    const kek = Object.keys(files).find((f) => /^kek\/kek-.*\.key$/.test(f));
    expect(kek).toBeDefined();
    for (const secret of [kek!, 'kek/ACTIVE', 'signing-ed25519.pem']) expect(files[secret]).toMatch(/^600 /);
    const again = await cli(['keys', 'init']);
    expect(again.code).toBe(1);
    expect(again.err).toMatch(/already holds keys: nothing changed/);
    expect((await cli(['keys', 'init', '--if-missing'])).code).toBe(0);
    expect(await snapshot(keysDir)).toEqual(files);
  });

  it.each(COMMANDS.map((c) => [c.name]))('`%s --help` and `-h` print help, exit 0 and change nothing', async (name) => {
    const before = await snapshot(keysDir);
    for (const flag of ['--help', '-h']) {
      const r = await cli([...name.split(' '), flag]);
      expect(r.code).toBe(0);
      expect(r.out).toMatch(new RegExp(`^usage: npm run cli -- ${name}`));
    }
    // Even after other, acting arguments.
    expect((await cli([...name.split(' '), 'some-arg', '--yes', '--help'])).code).toBe(0);
    expect(await snapshot(keysDir)).toEqual(before);
    expect(existsSync(path.join(varDir, 'postgres'))).toBe(false);
  });

  it('group and top-level help exit 0; no command or an unknown one exits 2 with the usage', async () => {
    expect(await cli(['--help'])).toMatchObject({ code: 0, out: expect.stringMatching(/keys rotate/) });
    expect(await cli(['keys', '--help'])).toMatchObject({ code: 0, out: expect.stringMatching(/keys rotate-signing/) });
    expect(await cli([])).toMatchObject({ code: 2, err: expect.stringMatching(/^usage:/) });
    expect(await cli(['keys', 'frobnicate'])).toMatchObject({ code: 2, err: expect.stringMatching(/unknown keys command: frobnicate/) });
    expect(await cli(['nonsense'])).toMatchObject({ code: 2 });
  });

  it('rejects unknown flags, bad values and stray arguments with exit 2 and the usage, changing nothing', async () => {
    const before = await snapshot(keysDir);
    for (const argv of [
      ['keys', 'rotate', '--bogus'],
      ['keys', 'rotate-signing', '--force'],
      ['keys', 'rotate', '--batch', 'x', '--yes'],
      ['keys', 'retire', '--yes'],
      ['keys', 'status', 'extra'],
      ['jobs', 'run'],
    ]) {
      const r = await cli(argv);
      expect([argv.join(' '), r.code]).toEqual([argv.join(' '), 2]);
      expect(r.err).toMatch(/usage: npm run cli -- /);
    }
    expect(await snapshot(keysDir)).toEqual(before);
    expect(existsSync(path.join(varDir, 'postgres'))).toBe(false);
  });

  it('destructive commands name what they change and need --yes, or a "y" on a terminal', async () => {
    const before = await snapshot(keysDir);
    const refused = await cli(['keys', 'rotate-signing']);
    expect(refused.code).toBe(2);
    expect(refused.err).toMatch(/replace the Ed25519 signing key in KEYS_DIR[\s\S]*re-run with --yes/);
    const rotate = await cli(['keys', 'rotate', '--batch', '50']);
    expect(rotate.err).toMatch(/create a new active key-encryption key .*batches of 50/);
    const questions: string[] = [];
    const declined = await cli(['keys', 'retire', 'kek-20260101-00000000'], { interactive: true, ask: async (q) => (questions.push(q), 'n') });
    expect(declined.code).toBe(1);
    expect(questions[0]).toMatch(/delete the key-encryption key file kek-20260101-00000000/);
    expect(await snapshot(keysDir)).toEqual(before);
    expect(existsSync(path.join(varDir, 'postgres'))).toBe(false);
  });
});
