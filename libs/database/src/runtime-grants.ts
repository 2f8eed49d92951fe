import type { Client } from 'pg';

/** Append-only: the runtime role may read and add to these, never change or remove. */
export const APPEND_ONLY_TABLES = ['audit_events', 'audit_checkpoints'] as const;

function ident(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

/**
 * Least privilege (issue 11): the runtime role owns nothing and gets only what the service
 * does — read/write on its tables, read + insert on the audit trail (no UPDATE, DELETE or
 * TRUNCATE, and as a non-owner it cannot ALTER TABLE … DISABLE TRIGGER), no DDL, only SELECT
 * on the migrations table, and MAINTAIN on document_versions so the crypto-erase VACUUM really
 * runs (PostgreSQL 17+; on older servers the vacuum is skipped and no certificate claims it).
 * Run by the migration role after migrating; idempotent.
 */
export async function grantRuntimeRole(owner: Client, runtimeRole: string): Promise<void> {
  const role = ident(runtimeRole);
  const [{ is_owner }] = (await owner.query(`SELECT current_user = $1 AS is_owner`, [runtimeRole])).rows as Array<{ is_owner: boolean }>;
  if (is_owner) throw new Error('the runtime role must differ from the migration role');
  await owner.query(`REVOKE CREATE ON SCHEMA public FROM PUBLIC`);
  await owner.query(`REVOKE ALL ON ALL TABLES IN SCHEMA public FROM ${role}`);
  await owner.query(`GRANT USAGE ON SCHEMA public TO ${role}`);
  await owner.query(`GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO ${role}`);
  await owner.query(`REVOKE UPDATE, DELETE ON ${APPEND_ONLY_TABLES.join(', ')} FROM ${role}`);
  // Read-only: a process given only DATABASE_URL (a worker) checks that nothing is pending.
  await owner.query(`REVOKE ALL ON migrations FROM ${role}`);
  await owner.query(`GRANT SELECT ON migrations TO ${role}`);
  await owner.query(`GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO ${role}`);
  const [{ version }] = (await owner.query(`SELECT current_setting('server_version_num')::int AS version`)).rows as Array<{ version: number }>;
  if (version >= 170000) await owner.query(`GRANT MAINTAIN ON document_versions TO ${role}`);
}
