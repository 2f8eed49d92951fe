import type { AuditOutcome } from './audit.types';

export interface AuditEventFilter {
  /** A user id (UUID) or a username. */
  actor?: string;
  action?: string;
  targetId?: string;
  outcome?: AuditOutcome;
  /** Inclusive. */
  from?: Date;
  /** Exclusive. */
  to?: Date;
}

export interface Paging {
  page: number;
  pageSize: number;
}

/** One audit event as the API returns it. */
export interface AuditEventView {
  seq: number;
  at: string;
  actorId: string | null;
  actorName: string;
  action: string;
  targetType: string | null;
  targetId: string | null;
  outcome: AuditOutcome;
  clientAddress: string | null;
  userAgent: string | null;
  requestId: string | null;
  details: Record<string, unknown>;
  prevHash: string;
  hash: string;
}

export interface Page<T> {
  items: T[];
  page: number;
  pageSize: number;
  total: number;
}
