// Imported first by main.ts: instrumentation must be in place before pg and express load.
import { startTracing } from '@kura/common';

export const tracing = startTracing(process.env, 'kura-api');
