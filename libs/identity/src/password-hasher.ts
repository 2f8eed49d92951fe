import { Injectable } from '@nestjs/common';
import { randomBytes, scrypt, timingSafeEqual } from 'node:crypto';

interface ScryptParams {
  N: number;
  r: number;
  p: number;
}

/** OWASP Password Storage Cheat Sheet lists scrypt N=2^15..2^17, r=8, p=1 as acceptable. */
const DEFAULT_PARAMS: ScryptParams = { N: 2 ** 15, r: 8, p: 1 };
const KEY_LENGTH = 32;
const SALT_LENGTH = 16;

function derive(password: string, salt: Buffer, params: ScryptParams): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    scrypt(password.normalize('NFKC'), salt, KEY_LENGTH, { ...params, maxmem: 256 * params.N * params.r + 1024 * 1024 }, (err, key) =>
      err ? reject(err) : resolve(key),
    );
  });
}

/**
 * scrypt with a per-user random salt, stored as `scrypt$N$r$p$salt$hash` (base64url) so
 * parameters can be raised later without invalidating existing hashes.
 */
@Injectable()
export class PasswordHasher {
  private dummy?: Promise<string>;

  async hash(password: string, params: ScryptParams = DEFAULT_PARAMS): Promise<string> {
    const salt = randomBytes(SALT_LENGTH);
    const key = await derive(password, salt, params);
    return ['scrypt', params.N, params.r, params.p, salt.toString('base64url'), key.toString('base64url')].join('$');
  }

  async verify(password: string, stored: string): Promise<boolean> {
    const parts = stored.split('$');
    if (parts.length !== 6 || parts[0] !== 'scrypt') return false;
    const [, n, r, p, saltText, keyText] = parts;
    const expected = Buffer.from(keyText, 'base64url');
    const key = await derive(password, Buffer.from(saltText, 'base64url'), { N: Number(n), r: Number(r), p: Number(p) });
    // Constant-time compare: response timing must not leak how many bytes matched.
    return key.length === expected.length && timingSafeEqual(key, expected);
  }

  /** Burns the same work as a real verification, so an unknown username costs as long as a wrong password. */
  async verifyDummy(password: string): Promise<false> {
    this.dummy ??= this.hash('kura-dummy-password-for-timing');
    await this.verify(password, await this.dummy);
    return false;
  }
}
