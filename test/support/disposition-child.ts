/**
 * A separate process acting as one API or worker instance (crash and concurrency tests).
 * Run with: node -r ./test/support/swc-register.cjs test/support/disposition-child.ts
 * Input: KURA_CHILD={databaseUrl, s3, keysDir, batchId, deleteDelayMs, approveAs?}.
 */
import 'reflect-metadata';
import { DispositionExecutor, DispositionService } from '@kura/retention';
import type { Actor } from '@kura/identity';
import { startRetentionContext } from './retention-context';

async function main(): Promise<void> {
  const input = JSON.parse(process.env.KURA_CHILD ?? '{}') as {
    databaseUrl: string;
    s3: Parameters<typeof startRetentionContext>[0]['s3'];
    keysDir: string;
    batchId: string;
    deleteDelayMs: number;
    approveAs?: Actor;
  };
  const ctx = await startRetentionContext({ databaseUrl: input.databaseUrl, s3: input.s3, keysDir: input.keysDir, deleteDelayMs: input.deleteDelayMs });
  process.stdout.write('ready\n');
  // Approves (as an api does), then executes without a lease (as a worker's step does).
  if (input.approveAs) await ctx.get(DispositionService).approve(input.approveAs, input.batchId, {});
  await ctx.get(DispositionExecutor).execute(input.batchId, null);
  await ctx.close();
  process.stdout.write('done\n');
}

main().catch((err: unknown) => {
  process.stderr.write(`child failed: ${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});
