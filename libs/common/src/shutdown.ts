import type { LoggerService } from '@nestjs/common';

/** After the drain window: aborted work cleans up and connections close within this. */
const CLEANUP_MS = 15_000;

/**
 * SIGTERM/SIGINT: `stop` drains (in-flight work gets `timeoutMs`, then is aborted and
 * cleans up), stops embedded services, exits. A second signal, or `timeoutMs` plus the
 * cleanup allowance, forces the exit.
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
    }, timeoutMs + CLEANUP_MS);
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
