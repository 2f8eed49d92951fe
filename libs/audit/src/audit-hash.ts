import { createHash } from 'node:crypto';
import { canonicalJson } from '@kura/common';

export const GENESIS_HASH = '0'.repeat(64);

/** The fields a link's hash covers: everything but the hash itself. */
export interface HashedEvent {
  seq: string;
  at: Date;
  actorId: string | null;
  actorName: string;
  action: string;
  targetType: string | null;
  targetId: string | null;
  outcome: string;
  clientAddress: string | null;
  userAgent: string | null;
  requestId: string | null;
  details: Record<string, unknown>;
  prevHash: string;
}

/** SHA-256 over the RFC 8785 canonical JSON of the event and the previous link's hash. */
export function eventHash(e: HashedEvent): string {
  const body = canonicalJson({
    seq: e.seq,
    at: e.at.toISOString(),
    actorId: e.actorId,
    actorName: e.actorName,
    action: e.action,
    targetType: e.targetType,
    targetId: e.targetId,
    outcome: e.outcome,
    clientAddress: e.clientAddress,
    userAgent: e.userAgent,
    requestId: e.requestId,
    details: e.details,
    prevHash: e.prevHash,
  });
  return createHash('sha256').update(body, 'utf8').digest('hex');
}
