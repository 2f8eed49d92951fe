/**
 * Faults of the services Kura depends on (PostgreSQL, the object store) are operational:
 * the answer is 503 with Retry-After, never 500 and never an integrity alarm.
 */
export type Dependency = 'database' | 'object store';

/** A dependency failed in a way that means "later" (unreachable, cut mid-transfer, too slow). */
export class DependencyUnavailableError extends Error {
  constructor(
    readonly dependency: Dependency,
    message: string,
  ) {
    super(message);
    this.name = 'DependencyUnavailableError';
  }
}

/** A dependency did not answer within its deadline. */
export class DependencyTimeoutError extends DependencyUnavailableError {
  readonly code = 'ETIMEDOUT';
  constructor(dependency: Dependency, what: string, ms: number) {
    super(dependency, `${dependency} ${what} timed out after ${ms} ms`);
    this.name = 'DependencyTimeoutError';
  }
}

/** Rejects with DependencyTimeoutError when `work` takes longer than `ms`. */
export async function withDeadline<T>(dependency: Dependency, what: string, ms: number, work: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      work,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new DependencyTimeoutError(dependency, what, ms)), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

const NETWORK_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'EHOSTUNREACH', 'ENETUNREACH', 'EAI_AGAIN', 'ENOTFOUND', 'ECONNABORTED', 'UND_ERR_SOCKET']);
/** SQLSTATE: connection exceptions, shutdown, not accepting connections, statement timeout, too many connections. */
const PG_UNAVAILABLE = /^(08...|57P0[123]|57014|53300|53400)$/;
const PG_CLIENT_MESSAGES = /Connection terminated|timeout exceeded when trying to connect|Query read timeout|not queryable|Connection refused|connection timeout/i;
/** Object store answers that mean "later", not "never". */
const S3_UNAVAILABLE = new Set(['SlowDown', 'ServiceUnavailable', 'RequestTimeout', 'InternalError', 'XMinioServerNotInitialized']);

/**
 * Which dependency `err` says is unavailable, or null when it is something else (a bug,
 * bad input, an integrity failure). Looks through TypeORM's driverError and AggregateError.
 */
export function unavailableDependency(err: unknown, depth = 0): Dependency | 'dependency' | null {
  if (!err || typeof err !== 'object' || depth > 3) return null;
  if (err instanceof DependencyUnavailableError) return err.dependency;
  const e = err as { code?: unknown; message?: unknown; driverError?: unknown; errors?: unknown; name?: unknown };
  const code = typeof e.code === 'string' ? e.code : '';
  const message = typeof e.message === 'string' ? e.message : '';
  if (e.driverError) return unavailableDependency(e.driverError, depth + 1) ?? (PG_CLIENT_MESSAGES.test(message) ? 'database' : null);
  if (PG_UNAVAILABLE.test(code) && /^[0-9A-Z]{5}$/.test(code)) return 'database';
  if (PG_CLIENT_MESSAGES.test(message)) return 'database';
  if (S3_UNAVAILABLE.has(code)) return 'object store';
  if (NETWORK_CODES.has(code)) return 'dependency';
  if (Array.isArray(e.errors)) {
    for (const inner of e.errors) {
      const d = unavailableDependency(inner, depth + 1);
      if (d) return d;
    }
  }
  return null;
}
