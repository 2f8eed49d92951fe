import { Injectable } from '@nestjs/common';
import { createHash } from 'node:crypto';
import { AuditService } from '@kura/audit';
import { canonicalJson, Clock } from '@kura/common';
import type { Actor } from './actor';
import { AccessReviewSignoffRepository } from './access-review-signoff.repository';
import type { AccessReviewSignoffEntity } from './access-review-signoff.entity';
import { PrivilegeGrantsService } from './privilege-grants.service';
import type { PrivilegeGrantView } from './privilege-grant.view';
import type { UserEntity } from './user.entity';
import { UserRepository } from './user.repository';
import { privilegeView, type UserView } from './user.view';

/** One user in the review: the user view's privilege and activity fields, no account state beyond them. */
export type AccessReviewEntry = Pick<
  UserView,
  'id' | 'username' | 'displayName' | 'roles' | 'clearance' | 'departments' | 'designations' | 'lastLoginAt' | 'privilegesChangedAt' | 'mustChangePassword' | 'createdAt'
>;

export interface SignoffView {
  id: string;
  reviewerId: string;
  reviewerUsername: string;
  signedAt: string;
  comment: string;
  userCount: number;
  snapshotSha256: string;
}

export interface AccessReview {
  generatedAt: string;
  users: AccessReviewEntry[];
  /** SHA-256 of the canonical JSON of `users`: a sign-off names the exact state it approved. */
  snapshotSha256: string;
  lastSignoff: SignoffView | null;
  /** Grants waiting for a second administrator: not yet part of anyone's privileges. */
  pendingGrants: PrivilegeGrantView[];
  /** Grants approved, rejected, expired or withdrawn in the last 90 days, newest first. */
  recentGrants: PrivilegeGrantView[];
}

function entry(user: UserEntity): AccessReviewEntry {
  return {
    ...privilegeView(user),
    lastLoginAt: user.lastLoginAt?.toISOString() ?? null,
    privilegesChangedAt: user.privilegesChangedAt.toISOString(),
    mustChangePassword: user.mustChangePassword,
    createdAt: user.createdAt.toISOString(),
  };
}

function signoffView(s: AccessReviewSignoffEntity): SignoffView {
  return {
    id: s.id,
    reviewerId: s.reviewerId,
    reviewerUsername: s.reviewerUsername,
    signedAt: s.signedAt.toISOString(),
    comment: s.comment,
    userCount: s.userCount,
    snapshotSha256: s.snapshotSha256,
  };
}

function snapshotHash(users: AccessReviewEntry[]): string {
  return createHash('sha256').update(canonicalJson(users)).digest('hex');
}

/** A.5.18 / A.9.2.5: periodic review of who holds which privileges, with a recorded sign-off. */
@Injectable()
export class AccessReviewService {
  constructor(
    private readonly users: UserRepository,
    private readonly signoffs: AccessReviewSignoffRepository,
    private readonly grants: PrivilegeGrantsService,
    private readonly audit: AuditService,
    private readonly clock: Clock,
  ) {}

  async report(actor: Actor): Promise<AccessReview> {
    const users = (await this.users.listActive()).map(entry);
    const last = await this.signoffs.latest();
    const grants = await this.grants.forReview();
    const review: AccessReview = {
      generatedAt: this.clock.now().toISOString(),
      users,
      snapshotSha256: snapshotHash(users),
      lastSignoff: last ? signoffView(last) : null,
      pendingGrants: grants.pending,
      recentGrants: grants.recent,
    };
    await this.audit.record({
      actor, action: 'access_review.read', outcome: 'allowed', targetType: 'AccessReview',
      details: { userCount: users.length, pendingGrants: grants.pending.length, recentGrants: grants.recent.length },
    });
    return review;
  }

  async signOff(actor: Actor, comment = ''): Promise<SignoffView> {
    return this.users.dataSource.transaction(async (manager) => {
      // The snapshot is taken inside the transaction that records the sign-off, so it is what was current at signing.
      const users = (await this.users.listActive(manager)).map(entry);
      const signoff = await this.signoffs.insert(manager, {
        reviewerId: actor.id,
        reviewerUsername: actor.username,
        signedAt: this.clock.now(),
        comment,
        userCount: users.length,
        snapshotSha256: snapshotHash(users),
      });
      await this.audit.append(manager, {
        actor, action: 'access_review.signoff', outcome: 'allowed', targetType: 'AccessReview', targetId: signoff.id,
        details: { userCount: signoff.userCount, snapshotSha256: signoff.snapshotSha256, comment },
      });
      return signoffView(signoff);
    });
  }
}
