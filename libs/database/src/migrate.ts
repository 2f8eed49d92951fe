import { Client } from 'pg';
import { DataSource } from 'typeorm';
import { MIGRATIONS } from './migrations';
import { grantRuntimeRole } from './runtime-grants';

/** Arbitrary but fixed: every Kura instance serialises its migrations on this advisory lock. */
const MIGRATION_LOCK = 0x4b757261;

/**
 * Applies pending migrations. Several instances may start at once: a session advisory
 * lock makes them take turns, so each migration runs exactly once. `databaseUrl` is the
 * migration role's (it owns the schema); with `runtimeRole`, that role is then granted
 * exactly what the service needs and nothing it could use to rewrite the audit trail.
 */
export async function migrate(databaseUrl: string, options: { runtimeRole?: string } = {}): Promise<string[]> {
  const lock = new Client({ connectionString: databaseUrl });
  await lock.connect();
  try {
    await lock.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK]);
    const ds = new DataSource({ type: 'postgres', url: databaseUrl, migrations: MIGRATIONS, migrationsTransactionMode: 'each', logging: false });
    await ds.initialize();
    try {
      const applied = await ds.runMigrations({ transaction: 'each' });
      if (options.runtimeRole) await grantRuntimeRole(lock, options.runtimeRole);
      return applied.map((m) => m.name);
    } finally {
      await ds.destroy();
    }
  } finally {
    await lock.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK]).catch(() => undefined);
    await lock.end();
  }
}

/**
 * Migrates as the migration role when one is configured (MIGRATION_DATABASE_URL, or the
 * embedded superuser), then grants the runtime role (DATABASE_URL's user) what it needs.
 * Without a separate migration role the runtime role migrates, and so owns, the schema.
 */
export function migrateFor(runtimeUrl: string, migrationUrl?: string): Promise<string[]> {
  if (!migrationUrl || migrationUrl === runtimeUrl) return migrate(runtimeUrl);
  return migrate(migrationUrl, { runtimeRole: decodeURIComponent(new URL(runtimeUrl).username) });
}
