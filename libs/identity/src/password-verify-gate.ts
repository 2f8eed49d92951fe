import { availableParallelism } from 'node:os';
import { Injectable } from '@nestjs/common';
import { DomainError, ErrorCode } from '@kura/common';

const MAX_WAITING = 256;

/**
 * scrypt is deliberately expensive. Run at most (cores − 1) verifications at once so a login
 * flood leaves a core to the event loop and every other request; beyond a bounded queue,
 * logins are refused (429) rather than piling up.
 */
@Injectable()
export class PasswordVerifyGate {
  private readonly limit = Math.max(1, availableParallelism() - 1);
  private running = 0;
  private readonly waiting: Array<() => void> = [];

  async run<T>(work: () => Promise<T>): Promise<T> {
    if (this.running >= this.limit) {
      if (this.waiting.length >= MAX_WAITING) throw new DomainError(ErrorCode.TooManyRequests, 'Too many logins at once; try again shortly.', { retryAfterSeconds: 1 });
      await new Promise<void>((resolve) => this.waiting.push(resolve));
    } else {
      this.running++;
    }
    try {
      return await work();
    } finally {
      const next = this.waiting.shift();
      if (next) next();
      else this.running--;
    }
  }
}
