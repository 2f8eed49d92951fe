import { Client } from 'pg';
import type { S3Settings } from '@kura/config';

/** A configured server that cannot be reached: names which one and where (never its credentials). */
export class UnreachableServerError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UnreachableServerError';
  }
}

function why(err: unknown, timedOut: boolean, seconds: number): string {
  if (timedOut) return `accepted no answer within ${seconds} s`;
  const e = err as NodeJS.ErrnoException & { cause?: NodeJS.ErrnoException };
  const code = e?.code ?? e?.cause?.code;
  if (code === 'ECONNREFUSED') return 'refused the connection';
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') return 'has a host name that does not resolve';
  const message = e?.cause?.message ?? e?.message;
  return message ? `failed: ${message}` : `failed${code ? ` (${code})` : ''}`;
}

async function withTimeout<T>(work: (signal: AbortSignal) => Promise<T>, ms: number, onTimeout: () => void): Promise<T> {
  const controller = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      onTimeout();
      controller.abort();
      reject(Object.assign(new Error('timeout'), { timedOut: true }));
    }, ms);
  });
  try {
    return await Promise.race([work(controller.signal), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * A server that accepts the connection but never answers would otherwise hang start-up
 * without a log line: connect and ask one trivial question, bounded in time.
 */
export async function probePostgres(databaseUrl: string, timeoutMs: number): Promise<void> {
  const url = new URL(databaseUrl);
  const where = `${url.hostname}:${url.port || 5432}`;
  const client = new Client({ connectionString: databaseUrl });
  client.on('error', () => undefined);
  try {
    await withTimeout(
      async () => {
        await client.connect();
        await client.query('SELECT 1');
      },
      timeoutMs,
      () => (client as unknown as { connection?: { stream?: { destroy(): void } } }).connection?.stream?.destroy(),
    );
  } catch (err) {
    const timedOut = (err as { timedOut?: boolean }).timedOut === true;
    // An authentication or database error means the server answered: say what it said.
    throw new UnreachableServerError(`PostgreSQL at ${where} (DATABASE_URL) ${why(err, timedOut, timeoutMs / 1000)}.`);
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** Any HTTP answer (even 403) proves the S3 server is there; the storage module checks the bucket. */
export async function probeS3(s3: S3Settings, timeoutMs: number): Promise<void> {
  const where = `${s3.useSSL ? 'https' : 'http'}://${s3.endPoint}:${s3.port}`;
  try {
    await withTimeout(
      async (signal) => {
        const res = await fetch(`${where}/`, { method: 'HEAD', signal });
        await res.body?.cancel();
      },
      timeoutMs,
      () => undefined,
    );
  } catch (err) {
    const timedOut = (err as { timedOut?: boolean }).timedOut === true;
    throw new UnreachableServerError(`The S3 server at ${where} (S3_ENDPOINT) ${why(err, timedOut, timeoutMs / 1000)}.`);
  }
}
