import { SetMetadata } from '@nestjs/common';

/** The verbs of the access policy (docs/access-control.md). */
export type Action =
  | 'manage'
  | 'create'
  | 'read'
  | 'read_content'
  /** the audit events of one document (its access history) */
  | 'read_history'
  | 'update'
  | 'reclassify'
  | 'downgrade'
  | 'version'
  | 'delete'
  | 'export'
  | 'approve';

export type SubjectType =
  | 'Document'
  | 'User'
  | 'AccessReview'
  | 'AuditEvent'
  | 'Inventory'
  | 'Series'
  | 'Hold'
  | 'Disposition'
  | 'Key'
  | 'Policy'
  | 'all';

export const POLICY = 'kura:policy';

export interface PolicyRequirement {
  action: Action;
  subject: SubjectType;
}

/**
 * The permission a route needs, checked against the caller's CASL ability before the
 * handler runs (type level: "may this user read some Document"). Row-level checks
 * ("this document") happen in the service with the same ability.
 */
export const Policy = (action: Action, subject: SubjectType): MethodDecorator & ClassDecorator =>
  SetMetadata(POLICY, { action, subject } satisfies PolicyRequirement);
