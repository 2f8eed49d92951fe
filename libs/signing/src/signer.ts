import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, KeyObject, randomBytes, sign, verify } from 'node:crypto';
import { existsSync } from 'node:fs';
import { chmod, link, mkdir, readdir, readFile, rename, stat, unlink, writeFile } from 'node:fs/promises';
import * as path from 'node:path';
import { Injectable, Logger } from '@nestjs/common';

export const SIGNING_KEY_FILE = 'signing-ed25519.pem';
export const SIGNING_PUBLIC_KEY_FILE = 'signing-ed25519.pub.pem';
/** Public keys of rotated-out signing keys, `<keyId>.pub.pem`: what they signed stays verifiable. */
export const RETIRED_SIGNING_KEYS_DIR = 'signing-retired';
const KEY_ID = /^[0-9a-f]{16}$/;

export interface SignerLoadOptions {
  /** false in production: a missing key is a deployment error, never silently replaced. */
  generateIfMissing: boolean;
  logger?: Pick<Logger, 'warn' | 'log'>;
}

/** A key that cannot be loaded or may not be generated: the message names the file, never key material. */
export class SigningKeyError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SigningKeyError';
  }
}

/**
 * The service's Ed25519 signing key. Used for audit checkpoints and deletion
 * certificates; the private key lives in KEYS_DIR, outside the database, so a
 * database administrator cannot forge signatures.
 */
@Injectable()
export class Signer {
  readonly algorithm = 'Ed25519' as const;
  readonly publicKeyPem: string;
  /** First 16 hex chars of SHA-256 over the SubjectPublicKeyInfo DER. */
  readonly keyId: string;
  private readonly publicKey: KeyObject;

  /** `retired`: public keys of earlier signing keys by key id (their private keys are gone). */
  constructor(
    private readonly privateKey: KeyObject,
    private readonly retired: ReadonlyMap<string, KeyObject> = new Map(),
  ) {
    if (privateKey.asymmetricKeyType !== 'ed25519') throw new SigningKeyError('the signing key is not an Ed25519 private key');
    this.publicKey = createPublicKey(privateKey);
    this.publicKeyPem = this.publicKey.export({ type: 'spki', format: 'pem' }).toString();
    this.keyId = Signer.keyIdOf(this.publicKey);
  }

  /** The public key (PEM) with this id: the current one or a retired one; null if unknown. */
  publicKeyPemOf(keyId: string): string | null {
    if (keyId === this.keyId) return this.publicKeyPem;
    return this.retired.get(keyId)?.export({ type: 'spki', format: 'pem' }).toString() ?? null;
  }

  /** Ids of the retired keys this signer still verifies with. */
  retiredKeyIds(): string[] {
    return [...this.retired.keys()].sort();
  }

  static keyIdOf(publicKey: KeyObject | string): string {
    const key = typeof publicKey === 'string' ? createPublicKey(publicKey) : publicKey;
    return createHash('sha256').update(key.export({ type: 'spki', format: 'der' })).digest('hex').slice(0, 16);
  }

  /** Loads `signing-ed25519.pem` from keysDir, generating the pair when missing and allowed. */
  static async load(keysDir: string, options: SignerLoadOptions): Promise<Signer> {
    const file = path.join(keysDir, SIGNING_KEY_FILE);
    if (!existsSync(file)) {
      if (!options.generateIfMissing) {
        throw new SigningKeyError(
          `The Ed25519 signing key ${file} does not exist. In production the key is never generated: install it in KEYS_DIR (mode 0600).`,
        );
      }
      await Signer.generate(keysDir, file);
      options.logger?.warn({
        msg: 'GENERATED A NEW Ed25519 SIGNING KEY. Fine for development; in production provision the key yourself and back it up outside the database host.',
        file,
      });
    }
    const signer = new Signer(await Signer.readPrivateKey(file), await Signer.readRetired(keysDir, options.logger));
    const mode = (await stat(file)).mode & 0o077;
    if (mode !== 0) options.logger?.warn({ msg: 'the signing key file is readable by group or others; chmod 600 it', file });
    const pubFile = path.join(keysDir, SIGNING_PUBLIC_KEY_FILE);
    if (!existsSync(pubFile)) await writeFile(pubFile, signer.publicKeyPem, { mode: 0o644 }).catch(() => undefined);
    options.logger?.log({ msg: 'signing key loaded', keyId: signer.keyId });
    return signer;
  }

  /**
   * Replaces the signing key with a new one. The old public key moves to
   * RETIRED_SIGNING_KEYS_DIR so checkpoints and certificates it signed still verify; the old
   * private key is overwritten (backups of KEYS_DIR may still hold it: see docs/security.md).
   * Running instances keep signing with the old key until restarted, which is harmless:
   * every instance that loads the directory afterwards verifies both.
   */
  static async rotate(keysDir: string): Promise<{ retiredKeyId: string; keyId: string }> {
    const file = path.join(keysDir, SIGNING_KEY_FILE);
    if (!existsSync(file)) throw new SigningKeyError(`The Ed25519 signing key ${file} does not exist: there is nothing to rotate.`);
    const old = new Signer(await Signer.readPrivateKey(file));
    const retiredDir = path.join(keysDir, RETIRED_SIGNING_KEYS_DIR);
    await mkdir(retiredDir, { recursive: true, mode: 0o755 });
    await writeFile(path.join(retiredDir, `${old.keyId}.pub.pem`), old.publicKeyPem, { mode: 0o644 });
    const { privateKey } = generateKeyPairSync('ed25519');
    const tmp = `${file}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`;
    await writeFile(tmp, privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600, flag: 'wx' });
    await chmod(tmp, 0o600);
    // rename() replaces the file atomically: a concurrent start reads the old key or the new, never half of one.
    await rename(tmp, file);
    const next = new Signer(privateKey);
    await writeFile(path.join(keysDir, SIGNING_PUBLIC_KEY_FILE), next.publicKeyPem, { mode: 0o644 });
    return { retiredKeyId: old.keyId, keyId: next.keyId };
  }

  private static async readRetired(keysDir: string, logger?: Pick<Logger, 'warn'>): Promise<Map<string, KeyObject>> {
    const dir = path.join(keysDir, RETIRED_SIGNING_KEYS_DIR);
    const retired = new Map<string, KeyObject>();
    if (!existsSync(dir)) return retired;
    for (const name of (await readdir(dir)).sort()) {
      const id = name.endsWith('.pub.pem') ? name.slice(0, -'.pub.pem'.length) : '';
      let key: KeyObject | null = null;
      try {
        key = createPublicKey(await readFile(path.join(dir, name), 'utf8'));
      } catch {
        key = null;
      }
      // A file whose name is not its key's id is skipped, not trusted: the id is how a signature picks its key.
      if (!KEY_ID.test(id) || !key || key.asymmetricKeyType !== 'ed25519' || Signer.keyIdOf(key) !== id) {
        logger?.warn({ msg: 'ignoring a file in the retired signing keys directory that is not <keyId>.pub.pem of an Ed25519 key', file: name });
        continue;
      }
      retired.set(id, key);
    }
    return retired;
  }

  private static async readPrivateKey(file: string): Promise<KeyObject> {
    try {
      return createPrivateKey(await readFile(file, 'utf8'));
    } catch {
      throw new SigningKeyError(`The signing key ${file} cannot be read as a PEM Ed25519 private key.`);
    }
  }

  /** Several instances may start at once on a shared KEYS_DIR: link() publishes the key atomically, first one wins. */
  private static async generate(keysDir: string, file: string): Promise<void> {
    await mkdir(keysDir, { recursive: true, mode: 0o700 });
    const { privateKey } = generateKeyPairSync('ed25519');
    const tmp = `${file}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`;
    await writeFile(tmp, privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600, flag: 'wx' });
    await chmod(tmp, 0o600);
    try {
      await link(tmp, file);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    } finally {
      await unlink(tmp).catch(() => undefined);
    }
  }

  sign(data: Buffer): Buffer {
    return sign(null, data, this.privateKey);
  }

  /** Verifies with the key `keyId` names: the current key or a retired one. An unknown id never verifies. */
  verifyAs(keyId: string, data: Buffer, signature: Buffer): boolean {
    const key = keyId === this.keyId ? this.publicKey : this.retired.get(keyId);
    if (!key) return false;
    try {
      return verify(null, data, key, signature);
    } catch {
      return false;
    }
  }

  /** Verifies with this service's key, or with `publicKeyPem` when given (e.g. a certificate's key). */
  verify(data: Buffer, signature: Buffer, publicKeyPem?: string): boolean {
    try {
      return verify(null, data, publicKeyPem ? createPublicKey(publicKeyPem) : this.publicKey, signature);
    } catch {
      return false;
    }
  }
}
