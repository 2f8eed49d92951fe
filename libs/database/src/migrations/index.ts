import type { MigrationInterface } from 'typeorm';
import { AuditTrail1764000000000 } from './1764000000000-audit-trail';
import { Identity1764000100000 } from './1764000100000-identity';
import { AuditAppendOnly1764000200000 } from './1764000200000-audit-append-only';
import { Documents1764000300000 } from './1764000300000-documents';
import { Retention1764000400000 } from './1764000400000-retention';
import { RetentionDocumentLinks1764000400100 } from './1764000400100-retention-document-links';
import { DocumentsLifecycle1764000450000 } from './1764000450000-documents-lifecycle';
import { LoginFailures1764000500000 } from './1764000500000-login-failures';
import { MyNumberPurposes1764000600000 } from './1764000600000-mynumber-purposes';
import { RetentionStatutoryMinimum1764000600100 } from './1764000600100-retention-statutory-minimum';
import { PendingUploads1764000800000 } from './1764000800000-pending-uploads';
import { JobSchedules1764000900000 } from './1764000900000-job-schedules';
import { IdentityPrivilegeGrants1764000910000 } from './1764000910000-identity-privilege-grants';
import { AuditPending1764001400000 } from './1764001400000-audit-pending';
import { DocumentListIndex1764001400100 } from './1764001400100-document-list-index';
import { DispositionLeases1764001500000 } from './1764001500000-disposition-leases';
import { HoldMembershipHistory1764001600000 } from './1764001600000-hold-membership-history';

/**
 * Every schema change, in order. Schema changes only through migrations (never
 * `synchronize`); each capability's tables are created by the migration that introduced it.
 */
export const MIGRATIONS: Array<new () => MigrationInterface> = [
  AuditTrail1764000000000,
  Identity1764000100000,
  AuditAppendOnly1764000200000,
  Documents1764000300000,
  Retention1764000400000,
  RetentionDocumentLinks1764000400100,
  DocumentsLifecycle1764000450000,
  LoginFailures1764000500000,
  MyNumberPurposes1764000600000,
  RetentionStatutoryMinimum1764000600100,
  PendingUploads1764000800000,
  JobSchedules1764000900000,
  IdentityPrivilegeGrants1764000910000,
  AuditPending1764001400000,
  DocumentListIndex1764001400100,
  DispositionLeases1764001500000,
  HoldMembershipHistory1764001600000,
];
