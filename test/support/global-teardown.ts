import { rm } from 'node:fs/promises';

export default async function globalTeardown(): Promise<void> {
  const infra = (globalThis as Record<string, unknown>).__kuraInfra as
    | { pg: { stop(): Promise<void> }; s3: { stop(): Promise<void> }; dir: string }
    | undefined;
  if (!infra) return;
  await infra.s3.stop().catch(() => undefined);
  await infra.pg.stop().catch(() => undefined);
  await rm(infra.dir, { recursive: true, force: true });
}
