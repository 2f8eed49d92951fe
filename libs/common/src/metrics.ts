import { createHash, timingSafeEqual } from 'node:crypto';
import { Counter, Gauge, Histogram, register } from 'prom-client';

/**
 * The service's Prometheus metrics (prom-client's process-wide registry, served at /metrics).
 * Created once per process; labels never hold ids, names or content (bounded cardinality).
 */
function counter(name: string, help: string, labelNames: string[]): Counter {
  return (register.getSingleMetric(name) as Counter | undefined) ?? new Counter({ name, help, labelNames });
}
function histogram(name: string, help: string, labelNames: string[], buckets: number[]): Histogram {
  return (register.getSingleMetric(name) as Histogram | undefined) ?? new Histogram({ name, help, labelNames, buckets });
}

function gauge(name: string, help: string): Gauge {
  return (register.getSingleMetric(name) as Gauge | undefined) ?? new Gauge({ name, help });
}

const SECONDS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

export const metrics = {
  httpRequests: counter('kura_http_requests_total', 'HTTP requests answered, by method, route template and status', ['method', 'route', 'status']),
  httpDuration: histogram('kura_http_request_duration_seconds', 'HTTP request latency, by method, route template and status', ['method', 'route', 'status'], SECONDS),
  // Chain lag = max(kura_audit_head_seq) - max(kura_audit_checkpoint_seq): events not yet under a signed checkpoint.
  auditHeadSeq: gauge('kura_audit_head_seq', 'Sequence number of the latest audit event this process chained'),
  auditCheckpointSeq: gauge('kura_audit_checkpoint_seq', 'Sequence number covered by the latest signed checkpoint this process made'),
  auditAppend: histogram('kura_audit_append_duration_seconds', 'Time to record one audit event in its transaction (insert into audit_pending; chaining follows the commit)', [], SECONDS),
  jobRuns: counter('kura_job_runs_total', 'Background job runs, by job and outcome', ['job', 'status']),
  jobDuration: histogram('kura_job_duration_seconds', 'Background job run time, by job', ['job'], [0.1, 1, 10, 60, 300, 1800, 3600]),
  storageBytes: counter('kura_storage_bytes_total', 'Bytes written to (in) and read from (out) the object store', ['direction']),
};

export { register as metricsRegistry };

/** Constant-time check of `Authorization: Bearer <token>` against the configured metrics token. */
export function metricsTokenMatches(authorization: string | undefined, token: string): boolean {
  const given = authorization?.replace(/^Bearer\s+/i, '') ?? '';
  if (!given) return false;
  const a = createHash('sha256').update(given).digest();
  const b = createHash('sha256').update(token).digest();
  return timingSafeEqual(a, b);
}
