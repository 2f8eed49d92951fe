// Imported first by main.ts: instrumentation must be in place before pg loads.
import { startTracing } from '@kura/common';

export const tracing = startTracing(process.env, 'kura-worker');
