import { writeFile } from 'node:fs/promises';
import { Injectable } from '@nestjs/common';
import { KuraConfig } from '@kura/config';

/**
 * Points in a batch's execution where a test can hold the executor deterministically (a
 * barrier, never a sleep). In production they do nothing; `KURA_FAULT_DISPOSITION_PAUSE_*`
 * (read only when NODE_ENV=test) stops a worker process after k destroyed records and signals
 * the fault test through a file, so it can kill -9 that worker mid-batch.
 */
@Injectable()
export class DispositionHooks {
  constructor(private readonly config: KuraConfig) {}

  /** Before each record this run will execute; `destroyed` records were destroyed by this run so far. */
  beforeItem = async (batchId: string, documentId: string, destroyed: number): Promise<void> => {
    const fault = this.config.faultDispositionPause;
    if (!fault || destroyed < fault.after) return;
    await writeFile(fault.signalFile, `${JSON.stringify({ pid: process.pid, batchId, destroyed })}\n`);
    // Held until the test kills this process.
    await new Promise<never>(() => undefined);
  };
}
