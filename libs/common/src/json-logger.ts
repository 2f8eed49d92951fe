import { Writable } from 'node:stream';
import { LoggerService } from '@nestjs/common';
import pino, { type Logger as PinoLogger } from 'pino';
import { requestContext } from './request-context';

type Level = 'error' | 'warn' | 'info' | 'debug';

export type LogFormat = 'json' | 'pretty';

/** Never logged, wherever they appear in a log object (a second line of defence: callers must not pass them). */
export const REDACTED_PATHS = [
  'password',
  'currentPassword',
  'newPassword',
  'token',
  'accessToken',
  'authorization',
  'cookie',
  'secretKey',
  'privateKey',
  'databaseUrl',
  '*.password',
  '*.currentPassword',
  '*.newPassword',
  '*.token',
  '*.accessToken',
  '*.authorization',
  '*.cookie',
  '*.secretKey',
  '*.privateKey',
  '*.databaseUrl',
  'headers.authorization',
  'headers.cookie',
  'req.headers.authorization',
  'req.headers.cookie',
];

// Nest's start-up chatter (a line per module and per route: 87 of 236 lines) is kept for debug.
const CHATTY_CONTEXTS = new Set(['InstanceLoader', 'RoutesResolver', 'RouterExplorer', 'NestFactory', 'NestApplication']);

// @nestjs/typeorm keeps one process-wide registry of data source names, so the api and the
// worker, two Nest applications in one process (`npm start`), each with its own DataSource
// in its own container, trip its "already registered" warning although neither overrides the other.
const FALSE_ALARM = (context: string | undefined, msg: string) => context === 'DataSourceNameRegistry' && msg.includes('is already registered');

const STACK = /\n\s+at /;

/**
 * One JSON object per line (pino), or a readable line per entry in development (pino-pretty).
 * Callers pass messages and small metadata only: never request bodies, tokens, passwords, keys
 * or document content; the redaction paths catch the usual names if one slips through.
 */
export class JsonLogger implements LoggerService {
  private readonly pino: PinoLogger;

  constructor(
    level: Level = 'info',
    write?: (line: string) => void,
    format: LogFormat = 'json',
  ) {
    const sink = write
      ? new Writable({
          write(chunk: Buffer, _enc, done) {
            for (const line of chunk.toString('utf8').split('\n')) if (line) write(line);
            done();
          },
        })
      : pino.destination({ dest: 1, sync: true });
    const destination =
      format === 'pretty'
        ? // eslint-disable-next-line @typescript-eslint/no-require-imports
          (require('pino-pretty') as (o: Record<string, unknown>) => NodeJS.WritableStream)({
            destination: sink,
            sync: true,
            colorize: !write && Boolean(process.stdout.isTTY),
            translateTime: 'SYS:HH:MM:ss.l',
            ignore: 'pid,hostname',
            messageFormat: '{if context}[{context}] {end}{msg}',
          })
        : sink;
    this.pino = pino(
      {
        level,
        base: undefined,
        timestamp: pino.stdTimeFunctions.isoTime,
        formatters: { level: (label) => ({ level: label }) },
        redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
        serializers: { err: pino.stdSerializers.err },
      },
      destination as pino.DestinationStream,
    );
  }

  log(message: unknown, context?: string): void {
    this.emit(context && CHATTY_CONTEXTS.has(context) ? 'debug' : 'info', message, context);
  }
  error(message: unknown, stackOrContext?: string, context?: string): void {
    // Nest passes (message, stack, context) or (message, context).
    const stack = stackOrContext && STACK.test(stackOrContext) ? stackOrContext : undefined;
    this.emit('error', message, context ?? (stack ? undefined : stackOrContext), stack);
  }
  warn(message: unknown, context?: string): void {
    this.emit('warn', message, context);
  }
  debug(message: unknown, context?: string): void {
    this.emit('debug', message, context);
  }
  verbose(message: unknown, context?: string): void {
    this.emit('debug', message, context);
  }

  private emit(level: Level, message: unknown, context?: string, stack?: string): void {
    if (!this.pino.isLevelEnabled(level)) return;
    const fields: Record<string, unknown> = {};
    if (context) fields.context = context;
    const ctx = requestContext.current();
    if (ctx) fields.requestId = ctx.requestId;
    let msg: string;
    if (message instanceof Error) {
      msg = message.message;
      fields.errorName = message.name;
      fields.stack = message.stack;
    } else if (typeof message === 'object' && message !== null) {
      const { msg: text, ...rest } = message as Record<string, unknown>;
      Object.assign(fields, rest);
      msg = text === undefined ? '' : String(text);
    } else {
      msg = String(message);
    }
    if (stack) fields.stack = stack;
    if (FALSE_ALARM(context, msg)) return;
    this.pino[level](fields, msg);
  }
}
