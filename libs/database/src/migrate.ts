import { Client } from 'pg';
import { DataSource } from 'typeorm';
import { MIGRATIONS } from './migrations';

/** Arbitrary but fixed: every Kura instance serialises its migrations on this advisory lock. */
const MIGRATION_LOCK = 0x4b757261;

/**
 * Applies pending migrations. Several instances may start at once: a session advisory
 * lock makes them take turns, so each migration runs exactly once.
 */
export async function migrate(databaseUrl: string): Promise<string[]> {
  const lock = new Client({ connectionString: databaseUrl });
  await lock.connect();
  try {
    await lock.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK]);
    const ds = new DataSource({ type: 'postgres', url: databaseUrl, migrations: MIGRATIONS, migrationsTransactionMode: 'each', logging: false });
    await ds.initialize();
    try {
      const applied = await ds.runMigrations({ transaction: 'each' });
      return applied.map((m) => m.name);
    } finally {
      await ds.destroy();
    }
  } finally {
    await lock.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK]).catch(() => undefined);
    await lock.end();
  }
}
