import { LoggerService } from '@nestjs/common';
import { requestContext } from './request-context';

type Level = 'error' | 'warn' | 'info' | 'debug';
const ORDER: Record<Level, number> = { error: 0, warn: 1, info: 2, debug: 3 };

/**
 * One JSON object per line. Callers pass messages and small metadata only:
 * never request bodies, tokens, passwords, keys or document content.
 */
export class JsonLogger implements LoggerService {
  constructor(
    private readonly level: Level = 'info',
    private readonly write: (line: string) => void = (line) => process.stdout.write(line + '\n'),
  ) {}

  log(message: unknown, context?: string): void {
    this.emit('info', message, context);
  }
  error(message: unknown, stackOrContext?: string, context?: string): void {
    // Nest passes (message, stack, context); stacks stay out of logs shipped off-host.
    this.emit('error', message, context ?? stackOrContext);
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

  private emit(level: Level, message: unknown, context?: string): void {
    if (ORDER[level] > ORDER[this.level]) return;
    const ctx = requestContext.current();
    const entry: Record<string, unknown> = { time: new Date().toISOString(), level };
    if (context) entry.context = context;
    if (ctx) entry.requestId = ctx.requestId;
    if (ctx?.clientRequestId) entry.clientRequestId = ctx.clientRequestId;
    if (message instanceof Error) {
      entry.msg = message.message;
      entry.errorName = message.name;
    } else if (typeof message === 'object' && message !== null) {
      Object.assign(entry, message);
    } else {
      entry.msg = String(message);
    }
    this.write(JSON.stringify(entry));
  }
}
