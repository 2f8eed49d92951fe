import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { KeyRing, KeyRingError } from './key-ring';

const quiet = () => ({ warn: jest.fn(), log: jest.fn() });

function tempDir(): string {
  return mkdtempSync(path.join(os.tmpdir(), 'kura-kek-'));
}

describe(KeyRing.name, () => {
  it('generates a development KEK with a loud warning, mode 0600, outside the database', () => {
    const dir = tempDir();
    const logger = quiet();
    const ring = new KeyRing(dir, { production: false, logger });
    ring.init();
    const id = ring.activeKekId();
    expect(id).toMatch(/^kek-\d{8}-[0-9a-f]{8}$/);
    expect(logger.warn).toHaveBeenCalledWith(expect.stringContaining('DEVELOPMENT KEY-ENCRYPTION KEY'));
    const file = path.join(dir, 'kek', `${id}.key`);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(Buffer.from(readFileSync(file, 'utf8').trim(), 'base64')).toHaveLength(32);
  });

  it('refuses to start in production without a KEK', () => {
    const ring = new KeyRing(tempDir(), { production: true, logger: quiet() });
    expect(() => ring.init()).toThrow(KeyRingError);
  });

  it('loads existing KEKs in production without generating one', () => {
    const dir = tempDir();
    const first = new KeyRing(dir, { production: false, logger: quiet() });
    first.init();
    const logger = quiet();
    const prod = new KeyRing(dir, { production: true, logger });
    prod.init();
    expect(prod.activeKekId()).toBe(first.activeKekId());
    expect(logger.warn).not.toHaveBeenCalled();
  });

  it('wraps with the version id as associated data: a wrapped key copied to another version does not open', () => {
    const ring = new KeyRing(tempDir(), { production: false, logger: quiet() });
    ring.init();
    const dataKey = randomBytes(32);
    const version = randomUUID();
    const wrapped = ring.wrap(dataKey, version);
    expect(wrapped.kekId).toBe(ring.activeKekId());
    expect(wrapped.wrapped.includes(dataKey)).toBe(false);
    expect(ring.unwrap(wrapped, version).equals(dataKey)).toBe(true);
    expect(() => ring.unwrap(wrapped, randomUUID())).toThrow(KeyRingError);
    const tampered = Buffer.from(wrapped.wrapped);
    tampered[20] ^= 1;
    expect(() => ring.unwrap({ ...wrapped, wrapped: tampered }, version)).toThrow(KeyRingError);
  });

  it('rotates: a new active KEK, old wraps still open, re-wrap under the new one, then the old can be retired', () => {
    const dir = tempDir();
    const ring = new KeyRing(dir, { production: false, logger: quiet() });
    ring.init();
    const oldId = ring.activeKekId();
    const dataKey = randomBytes(32);
    const version = randomUUID();
    const old = ring.wrap(dataKey, version);

    const newId = ring.rotate();
    expect(newId).not.toBe(oldId);
    expect(ring.activeKekId()).toBe(newId);
    expect(ring.kekIds().sort()).toEqual([oldId, newId].sort());
    expect(ring.unwrap(old, version).equals(dataKey)).toBe(true);

    const rewrapped = ring.wrap(ring.unwrap(old, version), version);
    expect(rewrapped.kekId).toBe(newId);
    expect(() => ring.retire(newId)).toThrow(KeyRingError);
    ring.retire(oldId);
    expect(readdirSync(path.join(dir, 'kek'))).not.toContain(`${oldId}.key`);
    expect(() => ring.unwrap(old, version)).toThrow(KeyRingError);
    expect(ring.unwrap(rewrapped, version).equals(dataKey)).toBe(true);
  });

  it('sees a rotation made by another process (ACTIVE replaced on disk)', () => {
    const dir = tempDir();
    const a = new KeyRing(dir, { production: false, logger: quiet() });
    a.init();
    const b = new KeyRing(dir, { production: false, logger: quiet() });
    b.init();
    expect(b.activeKekId()).toBe(a.activeKekId());
    const rotated = a.rotate();
    expect(b.activeKekId()).toBe(rotated);
    expect(b.wrap(randomBytes(32), randomUUID()).kekId).toBe(rotated);
  });

  it('two instances starting at once end up with one active KEK', () => {
    const dir = tempDir();
    const a = new KeyRing(dir, { production: false, logger: quiet() });
    const b = new KeyRing(dir, { production: false, logger: quiet() });
    a.init();
    b.init();
    expect(a.activeKekId()).toBe(b.activeKekId());
  });

  it('rejects malformed key ids and truncated key files', () => {
    const dir = tempDir();
    const ring = new KeyRing(dir, { production: false, logger: quiet() });
    ring.init();
    expect(() => ring.unwrap({ kekId: '../../etc/passwd', wrapped: randomBytes(60) }, randomUUID())).toThrow(KeyRingError);
    writeFileSync(path.join(dir, 'kek', 'kek-20260101-deadbeef.key'), Buffer.alloc(8).toString('base64'));
    expect(() => ring.wrap(randomBytes(32), randomUUID(), 'kek-20260101-deadbeef')).toThrow(/not 32 bytes/);
  });
});
