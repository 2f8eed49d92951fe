import { Client } from 'pg';
import { AuditService } from '@kura/audit';
import type { TestApp } from './app';

/** Appends n events through the real service, each in its own transaction. */
export async function recordEvents(t: TestApp, n: number, prefix = 'test'): Promise<void> {
  const audit = t.app.get(AuditService);
  for (let i = 0; i < n; i++) {
    await audit.record({
      actor: { id: '00000000-0000-4000-8000-000000000001', username: 'alice' },
      action: `${prefix}.event`,
      targetType: 'Document',
      targetId: `doc-${i % 3}`,
      outcome: i % 5 === 0 ? 'denied' : 'allowed',
      details: { i, note: `événement ${i} 監査`, nested: { list: [i, String(i)] } },
    });
  }
}

/** A connection as the cluster superuser, like a database administrator would have. */
export async function superuser(t: TestApp): Promise<Client> {
  const client = new Client({ connectionString: t.databaseUrl });
  await client.connect();
  return client;
}

/** Runs fn as superuser with the append-only triggers bypassed (the attacker's view of the database). */
export async function tamper(t: TestApp, fn: (db: Client) => Promise<unknown>): Promise<void> {
  const db = await superuser(t);
  try {
    await db.query(`SET session_replication_role = replica`);
    await fn(db);
  } finally {
    await db.end();
  }
}

/**
 * The newest sequence number in the trail, 0 when it is empty. A fresh app is not an empty
 * trail (creating the bootstrap administrator is audited, and so is every login), so tests
 * count from here rather than from 1.
 */
export async function lastSeq(t: Pick<TestApp, 'databaseUrl'>): Promise<number> {
  const client = new Client({ connectionString: t.databaseUrl });
  await client.connect();
  try {
    const { rows } = await client.query<{ seq: number }>(`SELECT coalesce(max(seq), 0)::int AS seq FROM audit_events`);
    return rows[0].seq;
  } finally {
    await client.end();
  }
}
