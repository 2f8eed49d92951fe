import type { GrantPrivilege, GrantStatus, PrivilegeGrantEntity } from './privilege-grant.entity';

/** A privilege grant as the API and the access review show it. */
export interface PrivilegeGrantView {
  id: string;
  userId: string;
  /** The grantee's username (null only if the account could not be found). */
  username: string | null;
  privilege: GrantPrivilege;
  value: string;
  status: GrantStatus;
  requestedById: string;
  requestedByUsername: string;
  requestedAt: string;
  expiresAt: string;
  /** Null while pending, and when the system (expiry) or an operator at the CLI decided. */
  decidedById: string | null;
  decidedByUsername: string | null;
  decidedAt: string | null;
  comment: string;
}

export function toGrantView(g: PrivilegeGrantEntity, username: string | null): PrivilegeGrantView {
  return {
    id: g.id,
    userId: g.userId,
    username,
    privilege: g.privilege,
    value: g.value,
    status: g.status,
    requestedById: g.requestedBy,
    requestedByUsername: g.requestedByUsername,
    requestedAt: g.requestedAt.toISOString(),
    expiresAt: g.expiresAt.toISOString(),
    decidedById: g.decidedBy,
    decidedByUsername: g.decidedByUsername,
    decidedAt: g.decidedAt?.toISOString() ?? null,
    comment: g.comment,
  };
}
