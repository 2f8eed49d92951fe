export type AuditOutcome = 'allowed' | 'denied' | 'failed';

/**
 * What a caller hands to the audit trail. Client address, user agent and request id
 * come from the request context; time from the database clock; sequence and hash
 * from the chain. `details` must never hold secrets, keys, tokens or content.
 */
export interface AuditEventInput {
  /** null for the system or an unauthenticated caller (then give `actorName`, e.g. the attempted username). */
  actor: { id: string; username: string } | null;
  actorName?: string;
  /** Dotted, e.g. `auth.login`, `user.update`, `document.read`. */
  action: string;
  targetType?: string;
  targetId?: string;
  outcome: AuditOutcome;
  details?: Record<string, unknown>;
}
