import { createHash, createPrivateKey, createPublicKey, randomBytes, randomUUID, sign } from 'node:crypto';
import { mkdtemp, writeFile } from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { Readable } from 'node:stream';
import { INestApplicationContext, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { Client } from 'pg';
import { AuditModule } from '@kura/audit';
import { CryptoModule } from '@kura/crypto';
import { Clock, JsonLogger } from '@kura/common';
import { ConfigModule, loadConfig, S3Settings } from '@kura/config';
import { DatabaseModule, migrate } from '@kura/database';
import type { Actor } from '@kura/identity';
import {
  ApproveBatchDto,
  BatchView,
  CertificateSigner,
  DispositionExecutor,
  DispositionService,
  RetentionJobsModule,
  RetentionModule,
  VERSION_DIGESTER,
  VersionDigester,
} from '@kura/retention';
import { SIGNING_KEY_FILE } from '@kura/signing';
import { ObjectStore } from '@kura/storage';

/** A signer over a PEM private key file's contents (test and child processes). */
export function pemSigner(privateKeyPem: string, keyId = 'test-signing-key'): CertificateSigner & { publicKeyPem: string } {
  const key = createPrivateKey(privateKeyPem);
  return { keyId, publicKeyPem: createPublicKey(key).export({ type: 'spki', format: 'pem' }).toString(), sign: (data: Buffer) => sign(null, data, key) };
}

/** A fresh KEYS_DIR holding the given Ed25519 private key as the service signing key. */
export async function writeSigningKey(privateKeyPem: string): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'kura-keys-'));
  await writeFile(path.join(dir, SIGNING_KEY_FILE), privateKeyPem, { mode: 0o600 });
  return dir;
}

export interface RetentionContextOptions {
  databaseUrl: string;
  s3: S3Settings;
  /** Holds signing-ed25519.pem: the service Signer loads it (see writeSigningKey). */
  keysDir: string;
  clock?: Clock;
  /** Slows every object deletion: lets a test kill an executor mid-batch. */
  deleteDelayMs?: number;
  /** Stands in for the documents capability's decrypting reader (fixity). */
  digester?: VersionDigester;
}

/** The retention services without HTTP, as the worker composes them: one "instance". */
export async function startRetentionContext(o: RetentionContextOptions): Promise<INestApplicationContext> {
  await migrate(o.databaseUrl);
  const config = loadConfig({ NODE_ENV: 'test', DATABASE_URL: o.databaseUrl, KEYS_DIR: o.keysDir, ORGANISATION_NAME: 'Example K.K.' });
  const delay = o.deleteDelayMs ?? 0;
  class SlowStore extends ObjectStore {
    override async delete(key: string): Promise<void> {
      if (delay) await new Promise((r) => setTimeout(r, delay));
      return super.delete(key);
    }
  }
  @Module({
    imports: [ConfigModule.forRoot(config), DatabaseModule.forRoot(o.databaseUrl, 4), AuditModule, CryptoModule],
    providers: [
      { provide: Clock, useValue: o.clock ?? new Clock() },
      { provide: ObjectStore, useFactory: () => new SlowStore(o.s3) },
      { provide: VERSION_DIGESTER, useValue: o.digester ?? { sha256: () => Promise.reject(new Error('no digester')) } },
    ],
    exports: [Clock, ObjectStore, VERSION_DIGESTER],
  })
  class GlobalsModule {}
  @Module({ imports: [{ module: GlobalsModule, global: true }, RetentionModule, RetentionJobsModule] })
  class ContextModule {}
  const app = await NestFactory.createApplicationContext(ContextModule, { logger: new JsonLogger('error'), abortOnError: false });
  await app.init();
  return app;
}

/**
 * Approves a batch (it commits queued, not executed: no worker runs in a retention context),
 * then does what a worker does, and returns the batch as the approver then reads it.
 */
export async function approveAndExecute(ctx: INestApplicationContext, actor: Actor, batchId: string, dto: ApproveBatchDto = {}): Promise<BatchView> {
  const queued = await ctx.get(DispositionService).approve(actor, batchId, dto);
  expect(queued).toMatchObject({ state: 'executing', progress: { destroyed: 0, remaining: queued.progress.total, worker: 'waiting' } });
  await ctx.get(DispositionExecutor).resumeAll();
  return ctx.get(DispositionService).batch(actor, batchId);
}

export async function sql<T = Record<string, unknown>>(databaseUrl: string, text: string, params: unknown[] = []): Promise<T[]> {
  const c = new Client({ connectionString: databaseUrl });
  await c.connect();
  try {
    return (await c.query(text, params)).rows as T[];
  } finally {
    await c.end();
  }
}

export interface FixtureDocument {
  id: string;
  objectKeys: string[];
  sha256s: string[];
}

/**
 * A document row with `versions` stored objects and wrapped keys, inserted directly: the
 * objects are random bytes standing in for ciphertext (the executor never decrypts), so
 * disposition can be driven at scale and across processes without the upload path.
 */
export async function insertDocument(
  databaseUrl: string,
  store: ObjectStore,
  d: { title: string; seriesId: string | null; createdAt: Date; classification?: number; personalData?: string; versions?: number },
): Promise<FixtureDocument> {
  const id = randomUUID();
  const versions = d.versions ?? 1;
  await sql(
    databaseUrl,
    `INSERT INTO documents (id, title, kind, classification, department, owner_id, personal_data, series_id, status, current_version, created_at, updated_at)
     VALUES ($1, $2, 'record', $3, 'hr', $4, $5, $6, 'active', $7, $8, $8)`,
    [id, d.title, d.classification ?? 2, randomUUID(), d.personalData ?? 'none', d.seriesId, versions, d.createdAt],
  );
  const out: FixtureDocument = { id, objectKeys: [], sha256s: [] };
  for (let n = 1; n <= versions; n++) {
    const versionId = randomUUID();
    const key = `documents/${id}/${versionId}`;
    const body = randomBytes(1024 + n);
    await store.put(key, Readable.from([body]));
    const sha = createHash('sha256').update(body).digest('hex');
    await sql(
      databaseUrl,
      `INSERT INTO document_versions (id, document_id, number, size, sha256, media_type, original_filename, author_id, created_at, storage_key, wrapped_key, kek_id, nonce_prefix, chunk_size)
       VALUES ($1, $2, $3, $4, $5, 'application/pdf', 'f.pdf', $6, $7, $8, $9, 'kek-1', $10, 1048576)`,
      [versionId, id, n, body.length, sha, randomUUID(), d.createdAt, key, randomBytes(60), randomBytes(8)],
    );
    out.objectKeys.push(key);
    out.sha256s.push(sha);
  }
  return out;
}
