import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { chmod, copyFile, lstat, mkdir, mkdtemp, readdir, readFile, readlink, rename, rm, symlink } from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { EmbeddedPostgresError } from './embedded-postgres-guard';

/**
 * Where PostgreSQL's binaries are staged when Kura runs as root: root-owned, world-traversable,
 * writable by root alone, outside any home directory, and kept across reboots (a running server
 * loads libraries and time-zone files from it, so a tmp cleaner must not reach it).
 */
export const STAGED_BINARIES_ROOT = '/var/lib/kura-embedded';

/** The platform package's native/ tree (bin, lib, share) that embedded-postgres runs its binaries from. */
export function platformBinariesDir(): string {
  const pkg = `@embedded-postgres/${os.platform()}-${os.arch()}`;
  // The package exports only dist/index.js; the binaries sit beside it in native/. Resolved from
  // embedded-postgres itself, which is what imports it.
  const entry = require.resolve(pkg, { paths: [path.dirname(require.resolve('embedded-postgres'))] });
  return path.join(path.dirname(entry), '..', 'native');
}

type Entry = ['d', string] | ['l', string, string] | ['f', string, 'x' | '-', string];

/** Every entry under dir, sorted: directories, symbolic links (relative, kept inside dir) and files (executable or not, SHA-256). */
async function manifest(dir: string, rel = '', out: Entry[] = []): Promise<Entry[]> {
  const names = (await readdir(path.join(dir, rel))).sort();
  for (const name of names) {
    const r = rel ? `${rel}/${name}` : name;
    const p = path.join(dir, r);
    const s = await lstat(p);
    if (s.isDirectory()) {
      out.push(['d', r]);
      await manifest(dir, r, out);
    } else if (s.isSymbolicLink()) {
      const target = await readlink(p);
      // A link out of the tree would let the staged copy depend on (or expose) something else.
      if (path.isAbsolute(target) || path.relative(dir, path.resolve(path.dirname(p), target)).startsWith('..')) {
        throw new EmbeddedPostgresError(`PostgreSQL's binaries at ${dir} hold a link that leaves their directory (${r} -> ${target}); reinstall with npm ci.`);
      }
      out.push(['l', r, target]);
    } else if (s.isFile()) {
      out.push(['f', r, s.mode & 0o111 ? 'x' : '-', createHash('sha256').update(await readFile(p)).digest('hex')]);
    } else {
      throw new EmbeddedPostgresError(`PostgreSQL's binaries at ${dir} hold ${r}, which is neither a file, a directory nor a link.`);
    }
  }
  return out;
}

/** SHA-256 over the tree's manifest: names, kinds, link targets, executable bits and contents. */
export async function contentDigest(dir: string): Promise<string> {
  return createHash('sha256').update(JSON.stringify(await manifest(dir))).digest('hex');
}

/** Root, and the user Kura runs as (the same when staging is needed: Kura runs as root). */
function trustedOwner(uid: number): boolean {
  return uid === 0 || uid === process.geteuid?.();
}

/** Each directory from / down to dir belongs to root (or Kura's own user) and is writable by no one else (sticky ones above excepted), so no other user can swap what is under it. */
async function checkTrustedChain(dir: string): Promise<void> {
  const chain: string[] = [];
  for (let d = path.resolve(dir); ; d = path.dirname(d)) {
    chain.unshift(d);
    if (path.dirname(d) === d) break;
  }
  for (const d of chain) {
    const s = await lstat(d);
    // A sticky directory above (/tmp) lets no one else rename or remove root's entries in it.
    const shared = d !== chain[chain.length - 1] && s.mode & 0o1000;
    if (!s.isDirectory() || !trustedOwner(s.uid) || (s.mode & 0o022 && !shared)) {
      throw new EmbeddedPostgresError(
        `PostgreSQL's binaries cannot be staged under ${dir}: ${d} is ${s.isDirectory() ? `owned by uid ${s.uid}, mode ${(s.mode & 0o7777).toString(8).padStart(4, '0')}` : 'not a directory'}; ` +
          `it must be a directory owned by root (or the user Kura runs as) and writable by no one else.`,
      );
    }
  }
}

/** Root (or Kura's own user) owns every entry of the staged tree and no one else may write to it; its contents are the expected ones. */
async function verifyStaged(dir: string, digest: string, rel = ''): Promise<boolean> {
  for (const name of await readdir(path.join(dir, rel))) {
    const r = path.join(rel, name);
    const s = await lstat(path.join(dir, r));
    if (!trustedOwner(s.uid) || (!s.isSymbolicLink() && s.mode & 0o022)) return false;
    if (s.isDirectory() && !(await verifyStaged(dir, digest, r))) return false;
  }
  return rel !== '' || (await contentDigest(dir)) === digest;
}

async function copyTree(from: string, to: string): Promise<void> {
  for (const [kind, rel, a] of await manifest(from)) {
    const src = path.join(from, rel);
    const dst = path.join(to, rel);
    if (kind === 'd') await mkdir(dst, { mode: 0o755 });
    else if (kind === 'l') await symlink(a, dst);
    else {
      await copyFile(src, dst);
      await chmod(dst, a === 'x' ? 0o755 : 0o644);
    }
  }
}

/** A start killed while copying leaves its temporary copy (60 MB); one untouched for an hour is no one's any more. */
async function removeAbandonedCopies(cacheRoot: string): Promise<void> {
  for (const name of await readdir(cacheRoot)) {
    if (!name.startsWith('.staging-')) continue;
    const s = await lstat(path.join(cacheRoot, name)).catch(() => undefined);
    if (s && Date.now() - s.mtimeMs > 3_600_000) await rm(path.join(cacheRoot, name), { recursive: true, force: true });
  }
}

/**
 * Running as root, PostgreSQL runs as the `postgres` user, which cannot reach binaries inside a
 * private home (a clone in /root, mode 0700). Copies the platform package's native/ tree into
 * `cacheRoot/<content digest>` (once per version; concurrent starts race safely through an atomic
 * rename), verified against the digest of the source before use, and returns that directory.
 */
export async function stagePostgresBinaries(source: string = platformBinariesDir(), cacheRoot: string = STAGED_BINARIES_ROOT): Promise<string> {
  const digest = await contentDigest(source);
  try {
    await mkdir(cacheRoot, { recursive: true, mode: 0o755 });
  } catch (err) {
    throw new EmbeddedPostgresError(`PostgreSQL's binaries cannot be staged under ${cacheRoot} (${(err as NodeJS.ErrnoException).code}): running as root, PostgreSQL runs as the "postgres" user, which needs them outside any private directory. Make ${cacheRoot} writable by root, or set DATABASE_URL to an external PostgreSQL.`);
  }
  await checkTrustedChain(cacheRoot);
  await removeAbandonedCopies(cacheRoot);
  const target = path.join(cacheRoot, `postgres-${digest.slice(0, 32)}`);
  const rejected = () =>
    new EmbeddedPostgresError(`The staged PostgreSQL binaries in ${target} do not match ${source} (changed contents, owner or mode): remove ${target} and start again.`);
  if (existsSync(target)) {
    if (await verifyStaged(target, digest)) return target;
    throw rejected();
  }
  const staging = await mkdtemp(path.join(cacheRoot, '.staging-'));
  try {
    await chmod(staging, 0o755);
    await copyTree(source, staging);
    if (!(await verifyStaged(staging, digest))) throw new EmbeddedPostgresError(`Copying PostgreSQL's binaries from ${source} to ${staging} did not give the same contents.`);
    await rename(staging, target).catch(async (err: NodeJS.ErrnoException) => {
      // Another start staged the same version first: use theirs once it checks out.
      if (err.code !== 'EEXIST' && err.code !== 'ENOTEMPTY') throw err;
      if (!(await verifyStaged(target, digest))) throw rejected();
    });
  } finally {
    await rm(staging, { recursive: true, force: true });
  }
  return target;
}
