import { generateKeyPairSync } from 'node:crypto';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { RETIRED_SIGNING_KEYS_DIR, Signer, SIGNING_KEY_FILE, SIGNING_PUBLIC_KEY_FILE, SigningKeyError } from './signer';

describe(Signer.name, () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'kura-signer-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('generates a key pair when missing: private key mode 0600, public key beside it, loud warning without key material', async () => {
    const warnings: unknown[] = [];
    const signer = await Signer.load(path.join(dir, 'keys'), { generateIfMissing: true, logger: { warn: (m: unknown) => warnings.push(m), log: () => undefined } });
    const keyFile = path.join(dir, 'keys', SIGNING_KEY_FILE);
    expect((await stat(keyFile)).mode & 0o777).toBe(0o600);
    expect(await readFile(path.join(dir, 'keys', SIGNING_PUBLIC_KEY_FILE), 'utf8')).toBe(signer.publicKeyPem);
    expect(signer.keyId).toMatch(/^[0-9a-f]{16}$/);
    expect(signer.algorithm).toBe('Ed25519');
    expect(warnings).toHaveLength(1);
    expect(JSON.stringify(warnings)).toMatch(/GENERATED/);
    expect(JSON.stringify(warnings)).not.toMatch(/PRIVATE KEY/);
  });

  it('reloads the same key on the next start', async () => {
    const a = await Signer.load(dir, { generateIfMissing: true });
    const b = await Signer.load(dir, { generateIfMissing: false });
    expect(b.keyId).toBe(a.keyId);
    const data = Buffer.from('checkpoint');
    expect(b.verify(data, a.sign(data))).toBe(true);
  });

  it('refuses to start without a key when generation is not allowed (production), and creates nothing', async () => {
    await expect(Signer.load(dir, { generateIfMissing: false })).rejects.toThrow(SigningKeyError);
    await expect(Signer.load(dir, { generateIfMissing: false })).rejects.toThrow(/does not exist.*production/);
    await expect(stat(path.join(dir, SIGNING_KEY_FILE))).rejects.toThrow(/ENOENT/);
  });

  it('refuses a key file that is not an Ed25519 private key', async () => {
    const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ type: 'pkcs8', format: 'pem' });
    await writeFile(path.join(dir, SIGNING_KEY_FILE), rsa, { mode: 0o600 });
    await expect(Signer.load(dir, { generateIfMissing: true })).rejects.toThrow(/not an Ed25519/);
    await writeFile(path.join(dir, SIGNING_KEY_FILE), 'garbage', { mode: 0o600 });
    await expect(Signer.load(dir, { generateIfMissing: true })).rejects.toThrow(/cannot be read/);
  });

  it('signs and verifies; a changed message, a changed signature or another key fails', async () => {
    const signer = await Signer.load(dir, { generateIfMissing: true });
    const data = Buffer.from('{"hash":"ab","seq":"1"}');
    const sig = signer.sign(data);
    expect(sig).toHaveLength(64);
    expect(signer.verify(data, sig)).toBe(true);
    expect(signer.verify(Buffer.from('{"hash":"ab","seq":"2"}'), sig)).toBe(false);
    const bad = Buffer.from(sig);
    bad[0] ^= 1;
    expect(signer.verify(data, bad)).toBe(false);
    expect(signer.verify(data, Buffer.alloc(3))).toBe(false);
    const other = generateKeyPairSync('ed25519').publicKey.export({ type: 'spki', format: 'pem' }).toString();
    expect(signer.verify(data, sig, other)).toBe(false);
    expect(signer.verify(data, sig, signer.publicKeyPem)).toBe(true);
    expect(Signer.keyIdOf(signer.publicKeyPem)).toBe(signer.keyId);
  });

  it('two instances generating at once end up with one key', async () => {
    const [a, b] = await Promise.all([Signer.load(dir, { generateIfMissing: true }), Signer.load(dir, { generateIfMissing: true })]);
    expect(a.keyId).toBe(b.keyId);
  });

  describe('rotation', () => {
    it('replaces the key, keeps the old public key, and verifies what either key signed by its id', async () => {
      const old = await Signer.load(dir, { generateIfMissing: true });
      const data = Buffer.from('checkpoint 42');
      const oldSignature = old.sign(data);
      const oldPrivatePem = await readFile(path.join(dir, SIGNING_KEY_FILE), 'utf8');

      await expect(Signer.rotate(dir)).resolves.toEqual({ retiredKeyId: old.keyId, keyId: expect.stringMatching(/^[0-9a-f]{16}$/) });
      const next = await Signer.load(dir, { generateIfMissing: false });
      expect(next.keyId).not.toBe(old.keyId);
      expect(await readFile(path.join(dir, SIGNING_KEY_FILE), 'utf8')).not.toBe(oldPrivatePem);
      expect((await stat(path.join(dir, SIGNING_KEY_FILE))).mode & 0o777).toBe(0o600);
      expect(await readFile(path.join(dir, SIGNING_PUBLIC_KEY_FILE), 'utf8')).toBe(next.publicKeyPem);
      expect(await readFile(path.join(dir, RETIRED_SIGNING_KEYS_DIR, `${old.keyId}.pub.pem`), 'utf8')).toBe(old.publicKeyPem);

      expect(next.verifyAs(old.keyId, data, oldSignature)).toBe(true);
      expect(next.verifyAs(next.keyId, data, next.sign(data))).toBe(true);
      // A signature only verifies under the key it names.
      expect(next.verifyAs(next.keyId, data, oldSignature)).toBe(false);
      expect(next.verifyAs(old.keyId, data, next.sign(data))).toBe(false);
      expect(next.verifyAs('0123456789abcdef', data, oldSignature)).toBe(false);
      expect(next.retiredKeyIds()).toEqual([old.keyId]);
      expect(next.publicKeyPemOf(old.keyId)).toBe(old.publicKeyPem);
      expect(next.publicKeyPemOf(next.keyId)).toBe(next.publicKeyPem);
      expect(next.publicKeyPemOf('0123456789abcdef')).toBeNull();

      // A second rotation keeps both earlier keys.
      await Signer.rotate(dir);
      const third = await Signer.load(dir, { generateIfMissing: false });
      expect(third.retiredKeyIds()).toEqual([old.keyId, next.keyId].sort());
      expect(third.verifyAs(old.keyId, data, oldSignature)).toBe(true);
    });

    it('skips, with a warning, a retired key file whose name is not its key id (a swapped file cannot vouch for another key)', async () => {
      const old = await Signer.load(dir, { generateIfMissing: true });
      await Signer.rotate(dir);
      const { publicKey } = generateKeyPairSync('ed25519');
      const imposter = publicKey.export({ type: 'spki', format: 'pem' }).toString();
      await writeFile(path.join(dir, RETIRED_SIGNING_KEYS_DIR, `${old.keyId}.pub.pem`), imposter);
      await writeFile(path.join(dir, RETIRED_SIGNING_KEYS_DIR, 'notes.txt'), 'hello');
      const warnings: unknown[] = [];
      const next = await Signer.load(dir, { generateIfMissing: false, logger: { warn: (m: unknown) => warnings.push(m), log: () => undefined } });
      expect(next.retiredKeyIds()).toEqual([]);
      expect(warnings).toHaveLength(2);
    });

    it('refuses to rotate when there is no key', async () => {
      await expect(Signer.rotate(dir)).rejects.toThrow(SigningKeyError);
    });
  });
});
