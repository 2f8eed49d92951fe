import { randomUUID } from 'node:crypto';
import { Client as PgClient } from 'pg';
import { Client as MinioClient } from 'minio';
import type { S3Settings } from '@kura/config';
import { Designation, Role, type Actor } from '@kura/identity';

export function actor(overrides: Partial<Actor> = {}): Actor {
  const id = overrides.id ?? randomUUID();
  return {
    id,
    username: overrides.username ?? `user-${id.slice(0, 8)}`,
    roles: [Role.Staff],
    clearance: 3,
    departments: ['finance'],
    designations: [],
    sessionId: randomUUID(),
    ...overrides,
  };
}

export const handler = (o: Partial<Actor> = {}) => actor({ designations: [Designation.MyNumberHandler], ...o });

export function minio(s3: S3Settings): MinioClient {
  return new MinioClient({ endPoint: s3.endPoint, port: s3.port, useSSL: s3.useSSL, accessKey: s3.accessKey, secretKey: s3.secretKey, region: s3.region });
}

export async function objectKeys(s3: S3Settings): Promise<string[]> {
  const keys: string[] = [];
  for await (const o of minio(s3).listObjects(s3.bucket, '', true) as AsyncIterable<{ name?: string }>) if (o.name) keys.push(o.name);
  return keys;
}

export async function readObject(s3: S3Settings, key: string): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const c of await minio(s3).getObject(s3.bucket, key)) parts.push(c as Buffer);
  return Buffer.concat(parts);
}

export async function sql<T = Record<string, unknown>>(databaseUrl: string, text: string, params: unknown[] = []): Promise<T[]> {
  const c = new PgClient({ connectionString: databaseUrl });
  await c.connect();
  try {
    return (await c.query(text, params)).rows as T[];
  } finally {
    await c.end();
  }
}

export async function auditEvents(databaseUrl: string, where = 'TRUE', params: unknown[] = []): Promise<Array<{ action: string; outcome: string; target_id: string | null; actor_id: string | null; details: Record<string, unknown> }>> {
  return sql(databaseUrl, `SELECT action, outcome, target_id, actor_id, details FROM audit_events WHERE ${where} ORDER BY seq`, params);
}

type Queryable = { query(sql: string, params?: unknown[]): Promise<unknown> };

/**
 * Walks a freshly inserted (active) document to `status` along the lifecycle the
 * database admits: on hold; or pending disposition with its keys erased; then destroyed.
 */
export async function driveTo(db: Queryable, documentId: string, status: 'active' | 'on_hold' | 'pending_disposition' | 'destroyed'): Promise<void> {
  if (status === 'on_hold') await db.query(`UPDATE documents SET status = 'on_hold' WHERE id = $1`, [documentId]);
  if (status === 'pending_disposition' || status === 'destroyed') {
    await db.query(`UPDATE documents SET status = 'pending_disposition' WHERE id = $1`, [documentId]);
    await db.query(`UPDATE document_versions SET wrapped_key = NULL WHERE document_id = $1`, [documentId]);
  }
  if (status === 'destroyed') await db.query(`UPDATE documents SET status = 'destroyed' WHERE id = $1`, [documentId]);
}
