import { chmodSync, existsSync, utimesSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readlinkSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { contentDigest, stagePostgresBinaries } from './postgres-binaries';

// Kura stages only when it runs as root (a regular user runs the binaries in place), but the
// staging itself trusts root or the user it runs as, so these checks run under any user.
const uid = process.getuid?.() ?? 0;

describe('stagePostgresBinaries', () => {
  let tmp: string;
  let source: string;
  let cache: string;

  beforeEach(() => {
    tmp = mkdtempSync(path.join(os.tmpdir(), 'kura-stage-'));
    chmodSync(tmp, 0o755);
    source = path.join(tmp, 'native');
    mkdirSync(path.join(source, 'bin'), { recursive: true });
    mkdirSync(path.join(source, 'lib'));
    writeFileSync(path.join(source, 'bin', 'postgres'), '#!/bin/sh\necho postgres\n', { mode: 0o700 });
    writeFileSync(path.join(source, 'lib', 'libpq.so.5.18'), 'library');
    symlinkSync('libpq.so.5.18', path.join(source, 'lib', 'libpq.so.5'));
    cache = path.join(tmp, 'cache');
  });
  afterEach(() => rmSync(tmp, { recursive: true, force: true }));

  it('copies the tree under its content digest, owned by root (or the user Kura runs as) and readable by the postgres user, and reuses it', async () => {
    const staged = await stagePostgresBinaries(source, cache);
    expect(path.basename(staged)).toBe(`postgres-${(await contentDigest(source)).slice(0, 32)}`);
    expect(await contentDigest(staged)).toBe(await contentDigest(source));
    expect(statSync(path.join(staged, 'bin', 'postgres')).mode & 0o777).toBe(0o755);
    expect(statSync(path.join(staged, 'lib', 'libpq.so.5.18')).mode & 0o777).toBe(0o644);
    expect(statSync(staged).mode & 0o777).toBe(0o755);
    expect(readlinkSync(path.join(staged, 'lib', 'libpq.so.5'))).toBe('libpq.so.5.18');
    const stagedAt = lstatSync(staged).ctimeMs;
    expect(await stagePostgresBinaries(source, cache)).toBe(staged);
    expect(lstatSync(staged).ctimeMs).toBe(stagedAt);
    expect(readdirSync(cache)).toEqual([path.basename(staged)]);
  });

  it('stages a new version beside the old one when the binaries change', async () => {
    const first = await stagePostgresBinaries(source, cache);
    writeFileSync(path.join(source, 'bin', 'postgres'), '#!/bin/sh\necho newer\n', { mode: 0o755 });
    const second = await stagePostgresBinaries(source, cache);
    expect(second).not.toBe(first);
    expect(await contentDigest(second)).toBe(await contentDigest(source));
  });

  it('refuses a staged copy whose contents or modes were changed, and leaves it as found', async () => {
    const staged = await stagePostgresBinaries(source, cache);
    writeFileSync(path.join(staged, 'bin', 'postgres'), '#!/bin/sh\necho tampered\n');
    await expect(stagePostgresBinaries(source, cache)).rejects.toThrow(`The staged PostgreSQL binaries in ${staged} do not match ${source}`);
    writeFileSync(path.join(staged, 'bin', 'postgres'), '#!/bin/sh\necho postgres\n');
    chmodSync(path.join(staged, 'bin'), 0o777);
    await expect(stagePostgresBinaries(source, cache)).rejects.toThrow(`remove ${staged} and start again`);
    expect(statSync(path.join(staged, 'bin')).mode & 0o777).toBe(0o777);
  });

  it('refuses a cache directory others may write to, and a link out of the tree', async () => {
    mkdirSync(cache, { mode: 0o777 });
    chmodSync(cache, 0o777);
    await expect(stagePostgresBinaries(source, cache)).rejects.toThrow(`${cache} is owned by uid ${uid}, mode 0777; it must be a directory owned by root (or the user Kura runs as) and writable by no one else.`);
    expect(readdirSync(cache)).toEqual([]);
    chmodSync(cache, 0o755);
    symlinkSync('/etc/passwd', path.join(source, 'lib', 'outside'));
    await expect(stagePostgresBinaries(source, cache)).rejects.toThrow('hold a link that leaves their directory (lib/outside -> /etc/passwd)');
    expect(readdirSync(cache)).toEqual([]);
  });

  it('removes a copy a killed start left behind an hour ago, not one being made now', async () => {
    mkdirSync(path.join(cache, '.staging-abandoned', 'bin'), { recursive: true });
    mkdirSync(path.join(cache, '.staging-in-progress'), { recursive: true });
    const hourAgo = new Date(Date.now() - 3_601_000);
    utimesSync(path.join(cache, '.staging-abandoned'), hourAgo, hourAgo);
    const staged = await stagePostgresBinaries(source, cache);
    expect(readdirSync(cache).sort()).toEqual(['.staging-in-progress', path.basename(staged)]);
  });

  it('lets concurrent starts stage the same version once, leaving no partial copies', async () => {
    const staged = await Promise.all([1, 2, 3].map(() => stagePostgresBinaries(source, cache)));
    expect(new Set(staged).size).toBe(1);
    expect(readdirSync(cache)).toEqual([path.basename(staged[0])]);
    expect(existsSync(path.join(staged[0], 'bin', 'postgres'))).toBe(true);
  });
});
