import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, renameSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { Logger } from '@nestjs/common';

const KEK_BYTES = 32;
const WRAP_NONCE_BYTES = 12;
const WRAP_TAG_BYTES = 16;
const KEK_ID = /^kek-[0-9]{8}-[0-9a-f]{8}$/;
const ACTIVE_FILE = 'ACTIVE';

/** A data key wrapped under a KEK; the KEK id travels with it so several KEKs can coexist. */
export interface WrappedKey {
  kekId: string;
  /** nonce (12) || ciphertext (32) || tag (16) */
  wrapped: Buffer;
}

export class KeyRingError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'KeyRingError';
  }
}

export interface KeyRingOptions {
  /** Refuse to start without keys instead of generating them (production). */
  production: boolean;
  /** Receives the loud warning when a development KEK is generated. */
  logger?: Pick<Logger, 'warn' | 'log'>;
  now?: () => Date;
}

/**
 * Key-encryption keys, one file each under `<keysDir>/kek/` (never in the database, so a
 * database dump alone cannot unwrap data keys). `ACTIVE` names the KEK new wraps use;
 * older KEKs stay until rotation has re-wrapped every data key under them.
 */
export class KeyRing {
  private readonly dir: string;
  private readonly keys = new Map<string, Buffer>();
  private readonly logger: Pick<Logger, 'warn' | 'log'>;
  private readonly now: () => Date;
  private active?: { id: string; stamp: string };

  constructor(keysDir: string, private readonly options: KeyRingOptions) {
    this.dir = path.join(keysDir, 'kek');
    this.logger = options.logger ?? new Logger(KeyRing.name);
    this.now = options.now ?? (() => new Date());
  }

  /** Loads the KEKs, generating a first one (with a warning) when none exist outside production. */
  init(): void {
    mkdirSync(this.dir, { recursive: true, mode: 0o700 });
    if (this.readActiveId() === undefined) {
      if (this.options.production) {
        throw new KeyRingError(`no key-encryption key in ${this.dir}: refusing to start in production without one`);
      }
      const id = this.generate();
      this.setActive(id, true);
      this.logger.warn(
        `!!! GENERATED A DEVELOPMENT KEY-ENCRYPTION KEY ${id} in ${this.dir}. Anyone with this file can read every ` +
          'document: keep it out of backups that hold the database, and provision real KEKs before production. !!!',
      );
    }
    this.activeKekId();
  }

  /** The KEK new data keys are wrapped under. Re-read when ACTIVE changes (rotation by another process). */
  activeKekId(): string {
    const file = path.join(this.dir, ACTIVE_FILE);
    let stamp: string;
    try {
      // ACTIVE is replaced by rename: a new inode means another process rotated.
      const s = statSync(file);
      stamp = `${s.ino}:${s.mtimeMs}`;
    } catch {
      throw new KeyRingError('no active key-encryption key');
    }
    if (!this.active || this.active.stamp !== stamp) {
      const id = this.readActiveId();
      if (!id) throw new KeyRingError('no active key-encryption key');
      this.load(id);
      this.active = { id, stamp };
    }
    return this.active.id;
  }

  /** Ids of every KEK file present. */
  kekIds(): string[] {
    return readdirSync(this.dir)
      .filter((f) => f.endsWith('.key'))
      .map((f) => f.slice(0, -4))
      .filter((id) => KEK_ID.test(id))
      .sort();
  }

  /** AES-256-GCM under the KEK; AAD = KEK id + version id, so a wrapped key copied onto another version does not open. */
  wrap(dataKey: Buffer, versionId: string, kekId = this.activeKekId()): WrappedKey {
    const kek = this.load(kekId);
    const nonce = randomBytes(WRAP_NONCE_BYTES);
    const cipher = createCipheriv('aes-256-gcm', kek, nonce, { authTagLength: WRAP_TAG_BYTES });
    cipher.setAAD(wrapAad(kekId, versionId));
    const body = Buffer.concat([cipher.update(dataKey), cipher.final()]);
    return { kekId, wrapped: Buffer.concat([nonce, body, cipher.getAuthTag()]) };
  }

  unwrap(key: WrappedKey, versionId: string): Buffer {
    const kek = this.load(key.kekId);
    if (key.wrapped.length !== WRAP_NONCE_BYTES + 32 + WRAP_TAG_BYTES) throw new KeyRingError('wrapped key has the wrong length');
    const nonce = key.wrapped.subarray(0, WRAP_NONCE_BYTES);
    const tag = key.wrapped.subarray(key.wrapped.length - WRAP_TAG_BYTES);
    const body = key.wrapped.subarray(WRAP_NONCE_BYTES, key.wrapped.length - WRAP_TAG_BYTES);
    const decipher = createDecipheriv('aes-256-gcm', kek, nonce, { authTagLength: WRAP_TAG_BYTES });
    decipher.setAAD(wrapAad(key.kekId, versionId));
    decipher.setAuthTag(tag);
    try {
      return Buffer.concat([decipher.update(body), decipher.final()]);
    } catch {
      throw new KeyRingError('wrapped key failed authentication');
    }
  }

  /** Creates a new KEK and makes it active. Existing wraps stay readable until re-wrapped. */
  rotate(): string {
    const id = this.generate();
    this.setActive(id, false);
    this.activeKekId();
    return id;
  }

  /** Deletes a retired KEK's file. The caller must first prove no data key is wrapped under it. */
  retire(kekId: string): void {
    if (kekId === this.activeKekId()) throw new KeyRingError('the active key-encryption key cannot be retired');
    this.load(kekId);
    unlinkSync(this.file(kekId));
    this.keys.get(kekId)?.fill(0);
    this.keys.delete(kekId);
  }

  private generate(): string {
    const stamp = this.now().toISOString().slice(0, 10).replace(/-/g, '');
    const id = `kek-${stamp}-${randomBytes(4).toString('hex')}`;
    // `wx`: never overwrite an existing key, even if two processes race.
    writeFileSync(this.file(id), randomBytes(KEK_BYTES).toString('base64') + '\n', { mode: 0o600, flag: 'wx' });
    return id;
  }

  private setActive(id: string, onlyIfMissing: boolean): void {
    const target = path.join(this.dir, ACTIVE_FILE);
    if (onlyIfMissing) {
      try {
        writeFileSync(target, id + '\n', { mode: 0o600, flag: 'wx' });
      } catch (err) {
        // Another instance started at the same moment and won: use its key, drop ours.
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
        unlinkSync(this.file(id));
      }
      return;
    }
    const tmp = `${target}.${process.pid}.${randomBytes(4).toString('hex')}`;
    writeFileSync(tmp, id + '\n', { mode: 0o600 });
    renameSync(tmp, target);
  }

  private readActiveId(): string | undefined {
    try {
      const id = readFileSync(path.join(this.dir, ACTIVE_FILE), 'utf8').trim();
      if (!KEK_ID.test(id)) throw new KeyRingError('ACTIVE names a malformed key id');
      return id;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw err;
    }
  }

  private load(id: string): Buffer {
    const cached = this.keys.get(id);
    if (cached) return cached;
    if (!KEK_ID.test(id)) throw new KeyRingError('malformed key id');
    let raw: string;
    try {
      raw = readFileSync(this.file(id), 'utf8').trim();
    } catch {
      throw new KeyRingError(`key-encryption key ${id} is not available`);
    }
    const key = Buffer.from(raw, 'base64');
    if (key.length !== KEK_BYTES) throw new KeyRingError(`key-encryption key ${id} is not 32 bytes`);
    this.keys.set(id, key);
    return key;
  }

  private file(id: string): string {
    return path.join(this.dir, `${id}.key`);
  }
}

function wrapAad(kekId: string, versionId: string): Buffer {
  return Buffer.from(`kura.dek.v1|${kekId}|${versionId.toLowerCase()}`, 'utf8');
}
