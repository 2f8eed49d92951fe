import type { NextFunction, Request, Response } from 'express';
import { collectDefaultMetrics } from 'prom-client';
import { metrics, metricsRegistry, metricsTokenMatches } from '@kura/common';

let defaultsCollected = false;

/** Route templates (`/api/v1/documents/:id`), never raw paths: ids would make a series per document. */
export function routeLabel(req: Request): string {
  const route = (req as Request & { route?: { path?: unknown } }).route?.path;
  return typeof route === 'string' ? `${req.baseUrl ?? ''}${route}` : 'unmatched';
}

/** Called on every finished response (request-id middleware). */
export function observeRequest(req: Request, status: number, seconds: number): void {
  const labels = { method: req.method, route: routeLabel(req), status: String(status) };
  metrics.httpRequests.inc(labels);
  metrics.httpDuration.observe(labels, seconds);
}

/**
 * GET /metrics (outside /api/v1) in Prometheus text format. With METRICS_TOKEN it needs
 * `Authorization: Bearer <token>`; without one it is not served (404 like any unknown path).
 */
export function metricsHandler(token: string | undefined) {
  if (!defaultsCollected && !metricsRegistry.getSingleMetric('kura_process_cpu_seconds_total')) collectDefaultMetrics({ prefix: 'kura_' });
  defaultsCollected = true;
  return async (req: Request, res: Response, next: NextFunction): Promise<void> => {
    if (req.method !== 'GET' && req.method !== 'HEAD') return next();
    if (!token) return next();
    if (!metricsTokenMatches(req.header('authorization'), token)) {
      res.status(401).setHeader('WWW-Authenticate', 'Bearer realm="metrics"');
      res.type('application/problem+json').send(JSON.stringify({ type: 'urn:kura:problem:unauthenticated', title: 'Unauthorized', status: 401, detail: 'The metrics token is required.' }));
      return;
    }
    res.setHeader('Cache-Control', 'no-store');
    res.type(metricsRegistry.contentType).send(await metricsRegistry.metrics());
  };
}
