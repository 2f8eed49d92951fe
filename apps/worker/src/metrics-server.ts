import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { collectDefaultMetrics } from 'prom-client';
import { metricsRegistry, metricsTokenMatches } from '@kura/common';

/**
 * The worker serves no API, so its metrics (job runs, storage bytes of fixity, audit appends)
 * get a listener of their own: GET /metrics on WORKER_METRICS_PORT, behind METRICS_TOKEN.
 */
export async function startWorkerMetrics(port: number, host: string, token: string): Promise<{ port: number; close(): Promise<void> }> {
  if (!metricsRegistry.getSingleMetric('kura_process_cpu_seconds_total')) collectDefaultMetrics({ prefix: 'kura_' });
  const server: Server = createServer((req, res) => {
    if (req.method !== 'GET' || req.url?.split('?')[0] !== '/metrics') {
      res.writeHead(404, { 'Content-Type': 'application/problem+json' }).end(JSON.stringify({ type: 'urn:kura:problem:not-found', title: 'Not Found', status: 404, detail: 'Only GET /metrics is served here.' }));
      return;
    }
    if (!metricsTokenMatches(req.headers.authorization, token)) {
      res.writeHead(401, { 'Content-Type': 'application/problem+json', 'WWW-Authenticate': 'Bearer realm="metrics"' });
      res.end(JSON.stringify({ type: 'urn:kura:problem:unauthenticated', title: 'Unauthorized', status: 401, detail: 'The metrics token is required.' }));
      return;
    }
    metricsRegistry.metrics().then(
      (text) => res.writeHead(200, { 'Content-Type': metricsRegistry.contentType, 'Cache-Control': 'no-store' }).end(text),
      () => res.writeHead(500).end(),
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  return { port: (server.address() as AddressInfo).port, close: () => new Promise((r) => server.close(() => r())) };
}
