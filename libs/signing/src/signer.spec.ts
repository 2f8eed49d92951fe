import { generateKeyPairSync } from 'node:crypto';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { Signer, SIGNING_KEY_FILE, SIGNING_PUBLIC_KEY_FILE, SigningKeyError } from './signer';

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
});
