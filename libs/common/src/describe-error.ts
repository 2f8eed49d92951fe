/**
 * One readable line for any thrown value: never `undefined` or an empty string
 * (some libraries reject with nothing, or with an Error whose message is empty).
 */
export function describeError(err: unknown): string {
  if (err instanceof AggregateError && err.errors.length) {
    return err.errors.map((e: unknown) => describeError(e)).join('; ');
  }
  if (err instanceof Error) {
    const code = (err as NodeJS.ErrnoException).code;
    if (err.message) return err.message;
    return code ? `${err.name} (${code})` : err.name || 'unknown error';
  }
  if (err === undefined || err === null || err === '') return 'unknown error (the failing component gave no reason)';
  if (typeof err === 'string') return err;
  try {
    return JSON.stringify(err) ?? String(err);
  } catch {
    return String(err);
  }
}
