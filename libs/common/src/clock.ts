import { Injectable } from '@nestjs/common';

/** Every time decision goes through this, so tests move time instead of sleeping. */
@Injectable()
export class Clock {
  private offsetMs = 0;

  now(): Date {
    return new Date(Date.now() + this.offsetMs);
  }

  /** Test and drill use only: shift the service's notion of now. */
  advance(ms: number): void {
    this.offsetMs += ms;
  }

  set(at: Date): void {
    this.offsetMs = at.getTime() - Date.now();
  }
}
