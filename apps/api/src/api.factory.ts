import { INestApplication, LoggerService } from '@nestjs/common';
import { NestFactory, Reflector } from '@nestjs/core';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import { ExpressAdapter, NestExpressApplication } from '@nestjs/platform-express';
import { Clock } from '@kura/common';
import type { KuraConfig } from '@kura/config';
import { migrate } from '@kura/database';
import type { Infrastructure } from '@kura/embedded';
import { AppModule } from './app.module';
import { MediaTypeGuard } from './http/media-type.guard';
import { metricsHandler } from './http/metrics';
import { completeOpenApi } from './http/openapi';
import { ProblemFilter } from './http/problem.filter';
import { answerClientErrors } from './http/client-error';
import { HttpDrain } from './http/drain';
import { requestIdMiddleware } from './http/request-id';
import { validationPipe } from './http/validation';

export const API_PREFIX = 'api/v1';

const DRAINS = new WeakMap<INestApplication, HttpDrain>();

/**
 * SIGTERM: answers new requests 503, lets requests in flight finish for up to `timeoutMs`,
 * then answers the rest 503 and cuts them (their handlers clean up), and stops listening.
 */
export async function drainApi(app: INestApplication, timeoutMs: number): Promise<{ finished: boolean; aborted: number }> {
  const drain = DRAINS.get(app);
  if (!drain) throw new Error('not an api built by createApi');
  return drain.drain(app.getHttpServer(), timeoutMs);
}

/** Builds the HTTP application (not yet listening). Used by main.ts and by every e2e test. */
export async function createApi(
  config: KuraConfig,
  infra: Pick<Infrastructure, 'databaseUrl' | 's3'>,
  logger: LoggerService,
  clock = new Clock(),
): Promise<INestApplication> {
  const applied = await migrate(infra.databaseUrl);
  if (applied.length) logger.log({ msg: 'migrations applied', migrations: applied }, 'Database');
  const app = await NestFactory.create<NestExpressApplication>(AppModule.register(config, infra, clock), new ExpressAdapter(), {
    logger,
    bufferLogs: false,
    abortOnError: false,
    // Never cut in-flight requests at the first signal: drainApi() lets them finish.
    forceCloseConnections: false,
  });
  const drain = new HttpDrain();
  DRAINS.set(app, drain);
  answerClientErrors(app.getHttpServer());
  app.set('trust proxy', false);
  app.disable('x-powered-by');
  app.use(requestIdMiddleware);
  app.use(drain.middleware);
  app.useGlobalInterceptors(drain);
  app.use('/metrics', metricsHandler(config.metricsToken));
  app.useBodyParser('json', { limit: '1mb' });
  app.setGlobalPrefix(API_PREFIX, { exclude: ['api/docs', 'api/docs-json'] });
  app.useGlobalFilters(new ProblemFilter());
  app.useGlobalGuards(new MediaTypeGuard(app.get(Reflector)));
  app.useGlobalPipes(validationPipe());

  const openapi = new DocumentBuilder()
    .setTitle('Kura')
    .setDescription('Secure document and records management. Errors are application/problem+json (RFC 9457).')
    .setVersion('1')
    .addBearerAuth({ type: 'http', scheme: 'bearer', bearerFormat: 'opaque' }, 'bearer')
    .build();
  SwaggerModule.setup('api/docs', app, () => completeOpenApi(SwaggerModule.createDocument(app, openapi), API_PREFIX), {
    jsonDocumentUrl: 'api/docs-json',
    useGlobalPrefix: false,
  });
  await app.init();
  return app;
}
