import { AbilityBuilder, createMongoAbility, ForcedSubject, MongoAbility, MongoQuery } from '@casl/ability';
import { Designation, Role, type Actor } from '@kura/identity';
import type { Action, SubjectType } from './policy.decorator';

/**
 * THE default access policy (SPEC section 4), in one place. docs/access-control.md shows it
 * as a table; access-policy.spec.ts walks that table. Every other check (route guards,
 * row-level checks in services, SQL filters for lists) derives from the rules built here.
 */

export type PersonalDataMarking = 'none' | 'personal' | 'specific';

/** The Document fields the rules look at. Names are shared with the documents library and its SQL translation. */
export interface DocumentSubjectFields {
  /** 0–3, see Classification. */
  classification: number;
  department: string;
  personalData: PersonalDataMarking;
  ownerId: string;
  status?: string;
}

export type DocumentSubject = DocumentSubjectFields & ForcedSubject<'Document'>;
export type AppSubject = SubjectType | DocumentSubject;
export type AppAbility = MongoAbility<[Action, AppSubject], MongoQuery>;

const STAFF_DOCUMENT_ACTIONS: Action[] = ['create', 'read', 'read_content', 'version'];
/**
 * The metadata staff may `update`. Not `seriesId`: the series decides when a record is
 * destroyed, so assigning it is the records officers' act (their `update` has no field list).
 */
export const STAFF_UPDATABLE_FIELDS = ['title', 'tags', 'reviewDueAt'];
const RECORDS_OFFICER_DOCUMENT_ACTIONS: Action[] = ['read', 'update', 'reclassify', 'downgrade'];

export function buildAbility(actor: Actor): AppAbility {
  const builder = new AbilityBuilder<AppAbility>(createMongoAbility);
  const { can } = builder;
  const roles = new Set(actor.roles);
  const handler = actor.designations.includes(Designation.MyNumberHandler);
  const inScope = { department: { $in: actor.departments }, classification: { $lte: actor.clearance } };
  // Specific personal information (My Number Act art. 12, 29): only designated handlers ever match it.
  const notSpecific = { personalData: { $ne: 'specific' as PersonalDataMarking } };
  const specific = { personalData: 'specific' as PersonalDataMarking };

  if (roles.has(Role.Staff)) {
    can(STAFF_DOCUMENT_ACTIONS, 'Document', { ...inScope, ...notSpecific });
    can('update', 'Document', STAFF_UPDATABLE_FIELDS, { ...inScope, ...notSpecific });
    can(['read', 'read_content'], 'Document', { classification: 0, ...notSpecific });
    can('reclassify', 'Document', { ...inScope, ...notSpecific, ownerId: actor.id });
    if (handler) {
      can(STAFF_DOCUMENT_ACTIONS, 'Document', { ...inScope, ...specific });
      can('update', 'Document', STAFF_UPDATABLE_FIELDS, { ...inScope, ...specific });
      can('reclassify', 'Document', { ...inScope, ...specific, ownerId: actor.id });
    }
  }

  if (roles.has(Role.RecordsOfficer)) {
    can('manage', ['Series', 'Hold', 'Disposition']);
    can('read', 'Inventory');
    // Metadata only: read_content is deliberately absent (separation of duties).
    can(RECORDS_OFFICER_DOCUMENT_ACTIONS, 'Document', { classification: { $lte: actor.clearance }, ...notSpecific });
    if (handler) can(RECORDS_OFFICER_DOCUMENT_ACTIONS, 'Document', { ...inScope, ...specific });
  }

  if (roles.has(Role.Auditor)) {
    can(['read', 'export'], 'AuditEvent');
    can(['read', 'create'], 'AccessReview');
    can('read', 'Inventory');
    can('read', 'Document', notSpecific);
  }

  if (roles.has(Role.Admin)) {
    // A.5.3 segregation of duties: administrators manage accounts and policy, never documents.
    can('manage', ['User', 'AccessReview', 'Policy']);
  }

  return builder.build();
}
