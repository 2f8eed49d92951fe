import { rm } from 'node:fs/promises';
import * as path from 'node:path';
import request from 'supertest';
import { AuditCheckpointService, AuditVerifier } from '@kura/audit';
import { RETIRED_SIGNING_KEYS_DIR, Signer } from '@kura/signing';
import { runKeysCommand } from '../apps/cli/src/keys.command';
import { startTestApp, TestApp } from './support/app';
import { recordEvents, tamper } from './support/audit';
import { auditEvents } from './support/documents';

/**
 * `npm run cli -- keys rotate-signing`: checkpoints signed before a rotation keep verifying
 * (each names its key), new ones are signed with the new key, and both public keys are
 * served for offline checks.
 */
describe('signing key rotation', () => {
  let first: TestApp;
  let second: TestApp | undefined;

  beforeEach(async () => {
    first = await startTestApp();
  });
  afterEach(async () => {
    await second?.close();
    second = undefined;
    await first.close();
  });

  /** A signed checkpoint of the current head (create() answers null only for an empty trail). */
  async function checkpoint(t: TestApp) {
    const c = await t.app.get(AuditCheckpointService).create();
    if (c === null) throw new Error('no checkpoint was signed');
    return c;
  }

  /** Rotates through the CLI on the first instance, then starts a second instance on the same database and keys. */
  async function rotate(): Promise<{ retiredKeyId: string; keyId: string }> {
    const lines: string[] = [];
    expect(await runKeysCommand(['rotate-signing'], first.app, (l) => lines.push(l))).toBe(0);
    second = await startTestApp({ databaseUrl: first.databaseUrl, s3: first.s3, keysDir: first.config.keysDir });
    return JSON.parse(lines.join('\n')) as { retiredKeyId: string; keyId: string };
  }

  it('keeps old checkpoints valid, signs new ones with the new key, and serves both public keys', async () => {
    await recordEvents(first, 3);
    const before = await checkpoint(first);
    const oldKeyId = first.app.get(Signer).keyId;
    expect(before.keyId).toBe(oldKeyId);

    const rotated = await rotate();
    expect(rotated.retiredKeyId).toBe(oldKeyId);
    const app = second as TestApp;
    expect(app.app.get(Signer).keyId).toBe(rotated.keyId);

    await recordEvents(app, 2, 'after');
    const after = await checkpoint(app);
    expect(after.keyId).toBe(rotated.keyId);
    await expect(app.app.get(AuditVerifier).verify()).resolves.toMatchObject({ valid: true, firstInvalidSeq: null });

    await request(app.http).get('/api/v1/keys/public').expect(200).expect((r) => expect(r.body.keyId).toBe(rotated.keyId));
    const old = await request(app.http).get('/api/v1/keys/public').query({ keyId: oldKeyId }).expect(200);
    expect(old.body).toEqual({ keyId: oldKeyId, algorithm: 'Ed25519', publicKeyPem: first.app.get(Signer).publicKeyPem });
    const unknown = await request(app.http).get('/api/v1/keys/public').query({ keyId: '0123456789abcdef' }).expect(404);
    expect(unknown.headers['content-type']).toMatch(/application\/problem\+json/);
    await request(app.http).get('/api/v1/keys/public').query({ keyId: '../etc/passwd' }).expect(400);

    const events = await auditEvents(app.databaseUrl, "action = 'signing-key.rotate'");
    expect(events).toEqual([expect.objectContaining({ outcome: 'allowed', target_id: rotated.keyId, details: { retiredKeyId: oldKeyId } })]);
  });

  it('detects a checkpoint relabelled with the other key id, and one whose retired key was removed', async () => {
    await recordEvents(first, 3);
    const before = await checkpoint(first);
    const rotated = await rotate();
    const app = second as TestApp;
    await tamper(app, (db) => db.query(`UPDATE audit_checkpoints SET key_id = $1 WHERE seq = $2`, [rotated.keyId, before.seq]));
    await expect(app.app.get(AuditVerifier).verify()).resolves.toMatchObject({
      valid: false,
      firstInvalidSeq: Number(before.seq),
      reason: `checkpoint ${before.seq} has an invalid signature (forged or altered)`,
    });
    await tamper(app, (db) => db.query(`UPDATE audit_checkpoints SET key_id = $1 WHERE seq = $2`, [rotated.retiredKeyId, before.seq]));
    await expect(app.app.get(AuditVerifier).verify()).resolves.toMatchObject({ valid: true });

    // Without the retired public key nothing vouches for the old checkpoint: verification says so rather than trusting it.
    await rm(path.join(app.config.keysDir, RETIRED_SIGNING_KEYS_DIR), { recursive: true });
    const third = await startTestApp({ databaseUrl: app.databaseUrl, s3: app.s3, keysDir: app.config.keysDir });
    try {
      await expect(third.app.get(AuditVerifier).verify()).resolves.toMatchObject({ valid: false, firstInvalidSeq: Number(before.seq) });
    } finally {
      await third.close();
    }
  });
});
