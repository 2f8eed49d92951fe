import { tracing } from './tracing';
import 'reflect-metadata';
import { INestApplicationContext } from '@nestjs/common';
import { Clock, describeError, JsonLogger, onShutdownSignal } from '@kura/common';
import { ConfigError, loadConfig } from '@kura/config';
import { startInfrastructure } from '@kura/embedded';
import { createWorker } from '../../worker/src/worker.factory';
import { createApi, drainApi } from './api.factory';

async function main(): Promise<void> {
  const config = loadConfig();
  const logger = new JsonLogger(config.logLevel, undefined, config.logFormat ?? (!config.isProduction && process.stdout.isTTY ? 'pretty' : 'json'));
  const infra = await startInfrastructure(config, logger);
  const clock = new Clock();
  let worker: INestApplicationContext | undefined;
  try {
    const api = await createApi(config, infra, logger, clock);
    // `npm start` runs api and worker in one process; production runs them separately.
    if (config.runWorkerInProcess) worker = await createWorker(config, infra, logger, clock, { schedule: true });
    await api.listen(config.port, config.host);
    const url = `http://${config.host}:${(api.getHttpServer().address() as { port: number }).port}`;
    logger.log({ msg: 'Kura is listening', url, docs: `${url}/api/docs`, worker: Boolean(worker) }, 'Main');
    if (process.stdout.isTTY || !config.isProduction) process.stderr.write(`\nKura is running at ${url}/ (console; API ${url}/api/v1, OpenAPI ${url}/api/docs)\n\n`);
    onShutdownSignal(logger, config.shutdownTimeoutMs, async () => {
      await drainApi(api, config.shutdownTimeoutMs);
      await api.close();
      await worker?.close();
      await infra.stop();
      await tracing?.shutdown();
    });
  } catch (err) {
    await worker?.close().catch(() => undefined);
    await infra.stop();
    throw err;
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof ConfigError ? 'Configuration error' : 'Kura failed to start'}: ${describeError(err)}\n`);
  process.exit(1);
});
