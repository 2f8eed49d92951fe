import { Injectable, Logger } from '@nestjs/common';
import { AuditService } from '@kura/audit';
import { Clock } from '@kura/common';
import { TransactionRunner } from '@kura/database';
import { DispositionExecutor } from '../disposition/disposition.executor';
import { reasonFor } from '../disposition/disposition-views';
import { RetentionRepository } from '../retention.repository';

const CHUNK = 100;

/** The daily due sweep: audits each document that became due, once, whichever worker instance runs it. */
@Injectable()
export class RetentionSweepService {
  private readonly logger = new Logger(RetentionSweepService.name);

  constructor(
    private readonly tx: TransactionRunner,
    private readonly retention: RetentionRepository,
    private readonly executor: DispositionExecutor,
    private readonly audit: AuditService,
    private readonly clock: Clock,
  ) {}

  async sweep(): Promise<{ noticed: number }> {
    const now = this.clock.now();
    const due = await this.retention.due(this.tx.outside, now);
    let noticed = 0;
    for (let i = 0; i < due.length; i += CHUNK) {
      noticed += await this.tx.run(async (m) => {
        let n = 0;
        for (const f of due.slice(i, i + CHUNK)) {
          // The primary key (document, date) makes concurrent sweeps notice a document once.
          if (!(await this.retention.notice(m, f.id, f.dispositionAt!, now))) continue;
          n++;
          await this.audit.append(m, {
            actor: null,
            actorName: 'system',
            action: 'retention.due',
            targetType: 'Document',
            targetId: f.id,
            outcome: 'allowed',
            details: { series: f.seriesCode, dispositionAt: f.dispositionAt!.toISOString(), disposition: f.disposition, reason: reasonFor(f) },
          });
        }
        return n;
      });
    }
    if (noticed) this.logger.log({ msg: 'documents became due', count: noticed });
    // Approved batches a crash left unfinished are completed here.
    await this.executor.resumeAll();
    return { noticed };
  }
}
