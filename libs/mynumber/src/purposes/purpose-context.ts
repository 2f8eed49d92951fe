import { AsyncLocalStorage } from 'node:async_hooks';

/** The request header that names the purpose of a handling act on a `specific` document. */
export const PURPOSE_HEADER = 'X-Purpose';

const storage = new AsyncLocalStorage<{ purpose: string | undefined }>();

/**
 * The purpose the current request names (its `X-Purpose` header, as sent), set by the API's
 * purpose middleware. Kept apart from document routes' signatures so every path that reads,
 * downloads or versions a document sees the same value.
 */
export const purposeContext = {
  run<T>(purpose: string | undefined, fn: () => T): T {
    return storage.run({ purpose }, fn);
  },
  current(): string | undefined {
    return storage.getStore()?.purpose;
  },
};
