import type { LoggerService } from '@nestjs/common';

/**
 * SIGTERM/SIGINT: stop accepting, let in-flight work finish, stop embedded services,
 * exit. A second signal or the timeout forces the exit.
 */
export function onShutdownSignal(logger: LoggerService, timeoutMs: number, stop: () => Promise<void>): void {
  let stopping = false;
  const handler = (signal: NodeJS.Signals) => {
    if (stopping) {
      logger.warn({ msg: 'second signal: exiting now', signal }, 'Shutdown');
      process.exit(1);
    }
    stopping = true;
    logger.log({ msg: 'shutting down', signal }, 'Shutdown');
    const timer = setTimeout(() => {
      logger.error({ msg: 'shutdown timed out: exiting', timeoutMs }, 'Shutdown');
      process.exit(1);
    }, timeoutMs);
    timer.unref();
    stop().then(
      () => {
        logger.log({ msg: 'stopped' }, 'Shutdown');
        process.exit(0);
      },
      (err: unknown) => {
        logger.error({ msg: 'shutdown failed', error: err instanceof Error ? err.message : String(err) }, 'Shutdown');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', handler);
  process.on('SIGINT', handler);
}
