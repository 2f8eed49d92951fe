import { Injectable, Logger } from '@nestjs/common';
import { canonicalJson, DomainError, ErrorCode } from '@kura/common';
import { Signer } from '@kura/signing';
import { AuditCheckpointEntity, checkpointPayload } from './audit-checkpoint.entity';
import { AuditCheckpointRepository } from './audit-checkpoint.repository';
import { AuditVerifier } from './audit-verifier';

@Injectable()
export class AuditCheckpointService {
  private readonly logger = new Logger(AuditCheckpointService.name);

  constructor(
    private readonly repo: AuditCheckpointRepository,
    private readonly verifier: AuditVerifier,
    private readonly signer: Signer,
  ) {}

  /**
   * Signs the current chain head (seq + hash) and stores the checkpoint. The head is the
   * last stored event as recomputed by the verifier, never audit_chain_head, and the part
   * of the chain since the previous checkpoint is verified first: a checkpoint must never
   * bless a tampered chain. Returns null when the chain is empty.
   */
  async create(): Promise<AuditCheckpointEntity | null> {
    const tail = await this.verifier.verifySinceLastCheckpoint();
    if (!tail.valid) {
      this.logger.error({ msg: 'audit chain is invalid; refusing to sign a checkpoint', firstInvalidSeq: tail.firstInvalidSeq, reason: tail.reason });
      throw new DomainError(ErrorCode.IntegrityFailed, 'The audit chain failed verification; no checkpoint was signed.', {
        firstInvalidSeq: tail.firstInvalidSeq,
      });
    }
    if (!tail.head) return null;
    const existing = await this.repo.findBySeq(tail.head.seq);
    if (existing) return existing;
    const at = await this.repo.databaseNow();
    const payload = checkpointPayload({ seq: tail.head.seq, hash: tail.head.hash, at });
    const signature = this.signer.sign(Buffer.from(canonicalJson(payload), 'utf8')).toString('base64');
    const checkpoint = await this.repo.insert(
      Object.assign(new AuditCheckpointEntity(), { seq: payload.seq, hash: payload.hash, createdAt: at, keyId: this.signer.keyId, signature }),
    );
    // Logged in full so the log stream holds a copy outside the database (docs/security.md).
    this.logger.log({ msg: 'audit checkpoint signed', seq: checkpoint.seq, hash: checkpoint.hash, keyId: checkpoint.keyId, signature: checkpoint.signature });
    return checkpoint;
  }

  list(page: number, pageSize: number): Promise<{ items: AuditCheckpointEntity[]; total: number }> {
    return this.repo.list(page, pageSize);
  }
}
