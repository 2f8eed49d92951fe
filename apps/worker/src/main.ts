import { tracing } from './tracing';
import 'reflect-metadata';
import { describeError, JsonLogger, onShutdownSignal } from '@kura/common';
import { ConfigError, loadConfig } from '@kura/config';
import { startInfrastructure } from '@kura/embedded';
import { startWorkerMetrics } from './metrics-server';
import { createWorker } from './worker.factory';

async function main(): Promise<void> {
  const config = loadConfig();
  const logger = new JsonLogger(config.logLevel, undefined, config.logFormat ?? (!config.isProduction && process.stdout.isTTY ? 'pretty' : 'json'));
  const infra = await startInfrastructure(config, logger);
  const worker = await createWorker(config, infra, logger, undefined, { schedule: true }).catch(async (err: unknown) => {
    await infra.stop();
    throw err;
  });
  const metrics = config.workerMetricsPort !== undefined && config.metricsToken ? await startWorkerMetrics(config.workerMetricsPort, config.host, config.metricsToken) : undefined;
  logger.log({ msg: 'worker started', metricsPort: metrics?.port }, 'Worker');
  onShutdownSignal(logger, config.shutdownTimeoutMs, async () => {
    await metrics?.close();
    await worker.close();
    await infra.stop();
    await tracing?.shutdown();
  });
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof ConfigError ? 'Configuration error' : 'Worker failed to start'}: ${describeError(err)}\n`);
  process.exit(1);
});
